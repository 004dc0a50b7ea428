# Reference values for welfare_eval.survey and welfare_eval.poverty from R's survey package.
#   Rscript tests/reference/survey_reference.R      (from the repository root)
# Writes tests/reference/survey_reference.csv (17 significant digits) and survey_versions.txt.
# Needs Debian packages r-base-core and r-cran-survey; the tests read only the CSV.
suppressPackageStartupMessages(library(survey))
options(survey.lonely.psu = "fail", digits = 17)
here <- "tests/reference"
d <- read.csv(file.path(here, "survey_data.csv"), stringsAsFactors = FALSE)
lon <- read.csv(file.path(here, "survey_lonely.csv"), stringsAsFactors = FALSE)
prep <- function(d) {
  d$poor <- as.numeric(d$y < d$z)
  d$gap <- ifelse(d$y < d$z, 1 - d$y / d$z, 0)
  d$gap2 <- d$gap^2
  d$pw <- d$w * d$hh_size
  d
}
d <- prep(d); lon <- prep(lon)
des <- svydesign(ids = ~psu, strata = ~strata, weights = ~w, nest = TRUE, data = d)
out <- list()
add <- function(case, estimand, domain, est, se, deff = NA) {
  out[[length(out) + 1]] <<- data.frame(case = case, estimand = estimand, domain = domain,
                                        estimate = as.numeric(est), std_error = as.numeric(se),
                                        deff = as.numeric(deff), stringsAsFactors = FALSE)
}
by_rows <- function(case, estimand, res, byvars, deff = FALSE) {
  dom <- apply(as.data.frame(res)[, byvars, drop = FALSE], 1, function(r) paste(trimws(r), collapse = "|"))
  est <- coef(res); se <- SE(res)
  df <- if (deff) deff(res) else rep(NA, length(est))
  add(case, estimand, dom, est, se, df)
}
# means, overall and by domain (with design effects)
m <- svymean(~y, des, deff = TRUE)
add("mean", "y", "all", coef(m), SE(m), deff(m))
by_rows("mean_by_region_urban", "y", svyby(~y, ~region + urban, des, svymean, deff = TRUE), c("region", "urban"), TRUE)
# totals and ratios by domain
by_rows("total_by_region", "y", svyby(~y, ~region, des, svytotal), "region")
r <- svyby(~y, ~region, des, svyratio, denominator = ~x)
add("ratio_by_region", "y/x", r$region, coef(r), SE(r))
# proportion
by_rows("proportion_by_region", "poor", svyby(~poor, ~region, des, svymean, deff = TRUE), "region", TRUE)
# FGT 0/1/2 with person weights (household weight x household size)
desp <- svydesign(ids = ~psu, strata = ~strata, weights = ~pw, nest = TRUE, data = d)
for (v in c("poor", "gap", "gap2")) {
  f <- as.formula(paste0("~", v))
  by_rows("fgt_by_region", v, svyby(f, ~region, desp, svymean, deff = TRUE), "region", TRUE)
  m <- svymean(f, desp, deff = TRUE)
  add("fgt", v, "all", coef(m), SE(m), deff(m))
}
# finite population correction (number of PSUs in the population stratum)
desf <- svydesign(ids = ~psu, strata = ~strata, weights = ~w, fpc = ~fpc_n, nest = TRUE, data = d)
by_rows("fpc_mean_by_region", "y", svyby(~y, ~region, desf, svymean), "region")
# lonely PSU rules
for (rule in c("remove", "certainty", "adjust", "average")) {
  options(survey.lonely.psu = rule)
  dl <- svydesign(ids = ~psu, strata = ~strata, weights = ~w, nest = TRUE, data = lon)
  m <- svymean(~y, dl)
  add(paste0("lonely_", rule), "y", "all", coef(m), SE(m))
  by_rows(paste0("lonely_", rule, "_by_region"), "y", svyby(~y, ~region, dl, svymean), "region")
}
options(survey.lonely.psu = "fail")
# jackknife (JKn) replicate weights
rdes <- as.svrepdesign(des, type = "JKn")
by_rows("jkn_mean_by_region", "y", svyby(~y, ~region, rdes, svymean), "region")
# simple random sampling, no weights
dsrs <- svydesign(ids = ~1, data = d)
by_rows("srs_mean_by_region", "y", svyby(~y, ~region, dsrs, svymean), "region")
res <- do.call(rbind, out)
write.csv(format(res, digits = 17), file.path(here, "survey_reference.csv"), row.names = FALSE)
writeLines(c(R.version.string, paste("survey", as.character(packageVersion("survey"))),
             paste("generated", format(Sys.Date()))), file.path(here, "survey_versions.txt"))
cat(nrow(res), "reference rows written\n")
