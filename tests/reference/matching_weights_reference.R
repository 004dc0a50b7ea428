# Reference values for welfare_eval.impact.matching with sampling weights (weights=): MatchIt's
# s.weights rule, which the function documents. The propensity score is the weighted logit (R glm
# with the sampling weights, quasibinomial: the same score as svyglm); the matching itself ignores
# the weights; the ATT is the difference of the treated and comparison means weighted by
# matching weight x sampling weight (match.data(include.s.weights = TRUE)).
#   Rscript tests/reference/matching_weights_reference.R   (from the repository root)
# Needs Debian packages r-base-core and r-cran-matchit; the tests read only the CSV.
#
# As in matching_reference.R, the match runs on the score as the only covariate of a Mahalanobis
# distance (a monotone transform of |score difference|): MatchIt 4.5.1's distance = "glm" path
# does not compute nearest-neighbour matching on the score (see that script). Without
# replacement the data are sorted by decreasing score and m.order = "data" (MatchIt's
# m.order = "largest"). The caliper is given in score units (std.caliper = FALSE) as 0.1 times the
# unweighted standard deviation of the score over all units, welfare_eval's definition.
#
# MatchIt computes no standard error of its own (it leaves inference to a weighted outcome model),
# so only the estimates are references here; see test_matching_weights.py for the standard errors.
suppressPackageStartupMessages(library(MatchIt))
here <- "tests/reference"
d <- read.csv(file.path(here, "matching_weights_data.csv"))
d$ps <- fitted(suppressWarnings(glm(d ~ x1 + x2 + x3, data = d, weights = w, family = quasibinomial())))
cal <- 0.1 * sd(d$ps)
out <- list()
cases <- list(list("att_replace_m1", TRUE, 1, NULL), list("att_replace_m3", TRUE, 3, NULL),
              list("att_replace_m1_caliper0.1", TRUE, 1, cal), list("att_replace_m3_caliper0.1", TRUE, 3, cal),
              list("att_noreplace", FALSE, 1, NULL), list("att_noreplace_caliper0.1", FALSE, 1, cal))
s <- d[order(-d$ps), ]
for (cs in cases) {
  args <- list(formula = d ~ ps, data = s, method = "nearest", distance = "mahalanobis", estimand = "ATT",
               replace = cs[[2]], ratio = cs[[3]], m.order = "data", s.weights = ~w)
  if (!is.null(cs[[4]])) { args$caliper <- c(ps = cs[[4]]); args$std.caliper <- FALSE }
  m <- do.call(matchit, args)
  md <- match.data(m, include.s.weights = TRUE)
  t1 <- md$d == 1
  est <- weighted.mean(md$y[t1], md$weights[t1]) - weighted.mean(md$y[!t1], md$weights[!t1])
  # the same from the matching weights times the sampling weights by hand (the rule, spelled out)
  md0 <- match.data(m, include.s.weights = FALSE)
  a <- md0$weights * md0$w
  est_hand <- weighted.mean(md0$y[t1], a[t1]) - weighted.mean(md0$y[!t1], a[!t1])
  stopifnot(abs(est - est_hand) < 1e-12)
  out[[length(out) + 1]] <- data.frame(case = cs[[1]], estimate = est, n_treated = sum(t1),
                                       n_control = sum(!t1))
}
res <- do.call(rbind, out)
write.csv(format(res, digits = 17), file.path(here, "matching_weights_reference.csv"), row.names = FALSE)
writeLines(c(R.version.string, paste("MatchIt", packageVersion("MatchIt")), paste("generated", Sys.Date())),
           file.path(here, "matching_weights_versions.txt"))
