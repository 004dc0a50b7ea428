# Reference design-based regressions for welfare_eval.survey.regression from R's survey package:
# svyglm with gaussian(), quasibinomial() and quasipoisson() families.
#   Rscript tests/reference/svyglm_reference.R      (from the repository root)
# Reads tests/reference/survey_data.csv (the fixture of survey_reference.R); writes
# tests/reference/svyglm_reference.csv (17 significant digits) and svyglm_versions.txt.
# Needs Debian packages r-base-core and r-cran-survey; the tests read only the CSV.
#
# glm's IRLS is run to a relative deviance change of 1e-14 (glm.control(epsilon = 1e-14); svyglm
# passes it to glm) so that the reference coefficients are converged well past the 1e-6 bar; the
# default 1e-8 leaves the quasibinomial coefficients within ~1e-7 of the optimum.
# Intervals are confint() of the svyglm: Wald with t on df.residual = degf(design) + 1 - p.
suppressPackageStartupMessages(library(survey))
options(survey.lonely.psu = "fail", digits = 17)
here <- "tests/reference"
d <- read.csv(file.path(here, "survey_data.csv"), stringsAsFactors = FALSE)
d$poor <- as.numeric(d$y < d$z)
des <- svydesign(ids = ~psu, strata = ~strata, weights = ~w, nest = TRUE, data = d)
desf <- svydesign(ids = ~psu, strata = ~strata, weights = ~w, fpc = ~fpc_n, nest = TRUE, data = d)
dsrs <- svydesign(ids = ~1, data = d)
ctl <- glm.control(epsilon = 1e-14, maxit = 100)
cases <- list(
  list(case = "gaussian_design", design = des, family = gaussian(),
       formula = log(y) ~ x + hh_size + urban + region),
  list(case = "gaussian_fpc", design = desf, family = gaussian(),
       formula = log(y) ~ x + hh_size + urban + region),
  list(case = "gaussian_srs", design = dsrs, family = gaussian(),
       formula = log(y) ~ x + hh_size),
  list(case = "binomial_design", design = des, family = quasibinomial(),
       formula = poor ~ x + hh_size + urban + region),
  list(case = "binomial_interaction", design = des, family = quasibinomial(),
       formula = poor ~ x * urban + hh_size),
  list(case = "poisson_design", design = des, family = quasipoisson(),
       formula = hh_size ~ x + urban + log(y) + region)
)
out <- list()
for (k in cases) {
  m <- svyglm(k$formula, design = k$design, family = k$family, control = ctl)
  ci <- confint(m, level = 0.95)
  out[[length(out) + 1]] <- data.frame(
    case = k$case, position = seq_along(coef(m)), term = names(coef(m)),
    estimate = as.numeric(coef(m)), std_error = as.numeric(SE(m)),
    ci_lower = as.numeric(ci[, 1]), ci_upper = as.numeric(ci[, 2]),
    df = m$df.residual, nobs = nrow(d), stringsAsFactors = FALSE)
}
res <- do.call(rbind, out)
write.csv(format(res, digits = 17), file.path(here, "svyglm_reference.csv"), row.names = FALSE)
writeLines(c(R.version.string, paste("survey", as.character(packageVersion("survey"))),
             paste("generated", format(Sys.Date()))), file.path(here, "svyglm_versions.txt"))
cat(nrow(res), "reference rows written\n")
