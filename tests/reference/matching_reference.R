# Reference values for welfare_eval.impact.matching: MatchIt (matched samples) and Matching
# (Match: estimates and Abadie-Imbens standard errors).
#   Rscript tests/reference/matching_reference.R   (from the repository root)
# Needs Debian packages r-base-core, r-cran-matchit and r-cran-matching; the tests read only the CSV.
suppressPackageStartupMessages({library(MatchIt); library(Matching)})
here <- "tests/reference"
d <- read.csv(file.path(here, "matching_data.csv"))
ps <- fitted(glm(d ~ x1 + x2 + x3, data = d, family = binomial()))
out <- list()
add <- function(case, estimate, std_error, n_matched) {
  out[[length(out) + 1]] <<- data.frame(case = case, estimate = estimate, std_error = std_error,
                                        n_matched = n_matched)
}
# MatchIt: the ATT as the difference in means of the matched sample. Greedy 1:1 matching without
# replacement, treated units by decreasing score (MatchIt's m.order = "largest"), with and without
# a caliper of 0.1 SD of the score. The match runs on the score as the only covariate of a
# Mahalanobis distance (a monotone transform of |score difference|), data sorted by decreasing
# score and m.order = "data": in MatchIt 4.5.1 the distance = "glm" path always takes the nearest
# control with a *lower* score and ignores a distance caliper (the C++ compares distances with an
# integer abs(), which truncates them to 0), so it does not compute nearest-neighbour matching.
d$ps <- ps
s <- d[order(-d$ps), ]
for (cal in list(NULL, c(ps = 0.1))) {
  args <- list(formula = d ~ ps, data = s, method = "nearest", distance = "mahalanobis", estimand = "ATT",
               replace = FALSE, m.order = "data")
  if (!is.null(cal)) args$caliper <- cal
  m <- do.call(matchit, args)
  md <- match.data(m)
  add(if (is.null(cal)) "matchit_att_noreplace" else "matchit_att_noreplace_caliper0.1",
      mean(md$y[md$d == 1]) - mean(md$y[md$d == 0]), NA, sum(md$d == 1))
}
# Matching: Abadie-Imbens standard errors (Var.calc = 1); distance.tolerance = 0, so there are no ties
for (spec in list(list("match_att_m1", "ATT", 1, NULL), list("match_att_m3", "ATT", 3, NULL),
                  list("match_ate_m2", "ATE", 2, NULL), list("match_att_m1_caliper0.01", "ATT", 1, 0.01))) {
  args <- list(Y = d$y, Tr = d$d, X = ps, estimand = spec[[2]], M = spec[[3]], replace = TRUE, ties = TRUE,
               Var.calc = 1, distance.tolerance = 0)
  if (!is.null(spec[[4]])) args$caliper <- spec[[4]]
  mt <- do.call(Match, args)
  add(spec[[1]], mt$est[1], mt$se, length(unique(mt$index.treated)))
}
res <- do.call(rbind, out)
write.csv(format(res, digits = 17), file.path(here, "matching_reference.csv"), row.names = FALSE)
writeLines(c(R.version.string, paste("MatchIt", packageVersion("MatchIt")),
             paste("Matching", packageVersion("Matching")), paste("generated", Sys.Date())),
           file.path(here, "matching_versions.txt"))
