# Reference intervals for shares (welfare_eval.results.share_interval through survey.proportion and
# poverty.fgt) from R's survey package: svyciprop(method = "logit") and svyciprop(method = "beta").
#   Rscript tests/reference/svyciprop_reference.R      (from the repository root)
# Reads tests/reference/survey_data.csv (the fixture of survey_reference.R); writes
# tests/reference/svyciprop_reference.csv (17 significant digits) and svyciprop_versions.txt.
# Needs Debian packages r-base-core and r-cran-survey; the tests read only the CSV.
#
# Each domain is R's subset design, as svyby(..., svyciprop) builds it; nrow() and degf() of that
# design are written too (the n and the degrees of freedom of the interval). For a domain whose share
# is 0, svyciprop has no usable interval (beta: NaN; logit: a diverging glm), so the columns
# onesided_lower/_upper give the workbench's rule computed here from R's own n, degf, qt and qbeta:
# the one-sided Clopper-Pearson bound qbeta(level, 1, n*), n* = n (qt(1 - level, n - 1) / qt(1 - level, df))^2.
suppressPackageStartupMessages(library(survey))
options(survey.lonely.psu = "fail", digits = 17)
here <- "tests/reference"
level <- 0.95
d <- read.csv(file.path(here, "survey_data.csv"), stringsAsFactors = FALSE)
d$poor <- as.numeric(d$y < d$z)
d$deep <- as.numeric(d$y < 0.5 * d$z)      # rare: zero in some domains
d$gap <- ifelse(d$y < d$z, 1 - d$y / d$z, 0)
d$pw <- d$w * d$hh_size
d$region_urban <- paste(d$region, d$urban, sep = "|")
d$region_strata <- paste(d$region, d$strata, sep = "|")   # small domains: 18-66 rows -> 2-8 PSUs
des <- svydesign(ids = ~psu, strata = ~strata, weights = ~w, nest = TRUE, data = d)
desp <- svydesign(ids = ~psu, strata = ~strata, weights = ~pw, nest = TRUE, data = d)
dsrs <- svydesign(ids = ~1, data = d)
out <- list()
run <- function(case, design, variable, byvar, method) {
  for (v in sort(unique(d[[byvar]]))) {
    sub <- design[d[[byvar]] == v, ]
    f <- as.formula(paste0("~", variable))
    m <- svymean(f, sub)
    r <- suppressWarnings(tryCatch(svyciprop(f, sub, method = method, level = level),
                                   error = function(e) NULL))
    ci <- if (is.null(r)) c(NA, NA) else as.numeric(attr(r, "ci"))
    n <- nrow(sub); df <- degf(sub)
    nstar <- n * (qt(1 - level, n - 1) / qt(1 - level, df))^2
    p <- as.numeric(coef(m))
    one <- if (p == 0) c(0, qbeta(level, 1, nstar)) else if (p == 1) c(qbeta(1 - level, nstar, 1), 1) else c(NA, NA)
    out[[length(out) + 1]] <<- data.frame(
      case = case, variable = variable, method = method, domain = v, estimate = p,
      std_error = as.numeric(SE(m)), ci_lower = ci[1], ci_upper = ci[2], n = n, df = df,
      onesided_lower = one[1], onesided_upper = one[2], stringsAsFactors = FALSE)
  }
}
for (method in c("logit", "beta")) {
  run("poor_by_region", des, "poor", "region", method)
  run("poor_by_region_urban", des, "poor", "region_urban", method)
  run("deep_by_region_urban", des, "deep", "region_urban", method)        # zero cells, counts of 1-2
  run("poor_by_region_strata", des, "poor", "region_strata", method)      # small domains, df 1-7
  run("gap_person_by_region", desp, "gap", "region", method)              # FGT(alpha=1), person weights
  run("poor_person_by_region_urban", desp, "poor", "region_urban", method)
  run("srs_poor_by_region", dsrs, "poor", "region", method)               # no design
}
res <- do.call(rbind, out)
write.csv(format(res, digits = 17), file.path(here, "svyciprop_reference.csv"), row.names = FALSE)
writeLines(c(R.version.string, paste("survey", as.character(packageVersion("survey"))),
             paste("generated", format(Sys.Date()))), file.path(here, "svyciprop_versions.txt"))
cat(nrow(res), "reference rows written\n")
