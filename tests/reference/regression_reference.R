# Reference values for welfare_eval.impact.regression: lm + sandwich::vcovCL(type = "HC1").
#   Rscript tests/reference/regression_reference.R   (from the repository root)
# Needs Debian packages r-base-core and r-cran-sandwich; the tests read only the CSV.
suppressPackageStartupMessages(library(sandwich))
here <- "tests/reference"
d <- read.csv(file.path(here, "regression_data.csv"))
out <- list()
add <- function(case, m, V) {
  out[[length(out) + 1]] <<- data.frame(case = case, estimate = unname(coef(m)["d"]),
                                        std_error = unname(sqrt(diag(V))["d"]))
}
m <- lm(y ~ d + x, data = d)
add("hc1", m, vcovHC(m, type = "HC1"))
add("cluster", m, vcovCL(m, cluster = ~g, type = "HC1"))
m <- lm(y ~ d + x + factor(f), data = d)
add("cluster_fe", m, vcovCL(m, cluster = ~g, type = "HC1"))
m <- lm(y ~ d + x + factor(f), data = d, weights = w)
add("cluster_fe_weights", m, vcovCL(m, cluster = ~g, type = "HC1"))
res <- do.call(rbind, out)
write.csv(format(res, digits = 17), file.path(here, "regression_reference.csv"), row.names = FALSE)
writeLines(c(R.version.string, paste("sandwich", as.character(packageVersion("sandwich"))),
             paste("generated", format(Sys.Date()))), file.path(here, "regression_versions.txt"))
