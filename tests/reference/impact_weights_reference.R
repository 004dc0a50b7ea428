# Reference values for weighted IPW and AIPW (welfare_eval.impact.ipw / aipw with weights= and
# design=), built from R survey: svyglm for the propensity score (quasibinomial) and for the
# outcome model (gaussian, one regression per arm as a fully interacted model), the estimators
# and their influence functions written out by hand, and the design-based variance of the
# influence function's weighted total from svyrecvar (what svytotal does).
#   Rscript tests/reference/impact_weights_reference.R   (from the repository root)
# Needs Debian r-base-core and r-cran-survey; the tests read only the CSV.
# The influence functions of the svyglm coefficients are formed as survey does internally
# (estfun %*% naive.cov, svy.varcoef): svyglm(influence = TRUE) fails in survey 4.1.1 ("object
# 'estfun' not found", a typo in that version); the script checks that they reproduce vcov().
suppressPackageStartupMessages(library(survey))
here <- "tests/reference"
dat <- read.csv(file.path(here, "impact_weights_data.csv"))
des <- svydesign(ids = ~psu, strata = ~stratum, weights = ~w, data = dat, nest = TRUE)
n <- nrow(dat)
s <- dat$w
S <- sum(s)
dd <- dat$d
y <- dat$y

coef_influence <- function(fit) {
  estfun <- model.matrix(fit) * resid(fit, "working") * fit$weights
  inf <- estfun %*% fit$naive.cov
  v <- svyrecvar(inf, des$cluster, des$strata, des$fpc, postStrata = des$postStrata)
  stopifnot(max(abs(v - vcov(fit))) < 1e-10 * max(abs(vcov(fit))))
  inf
}

ps <- svyglm(d ~ x1 + x2, design = des, family = quasibinomial())
infl_ps <- coef_influence(ps)          # beta_hat - beta ~ column sums (weights included)
X <- model.matrix(ps)
p <- as.vector(plogis(X %*% coef(ps)))
stopifnot(min(p) > 0.0001, max(p) < 0.9999)   # no clipping in the Python estimator either

om <- svyglm(y ~ factor(d) * (x1 + x2), design = des)   # separate weighted regressions per arm
infl_om <- coef_influence(om)
X1 <- model.matrix(~ factor(d, levels = 0:1) * (x1 + x2), transform(dat, d = 1))
X0 <- model.matrix(~ factor(d, levels = 0:1) * (x1 + x2), transform(dat, d = 0))
m1 <- as.vector(X1 %*% coef(om))
m0 <- as.vector(X0 %*% coef(om))

total_se <- function(z) {
  # z: per-unit contributions to the linearized total (sampling weights already in)
  c(design = sqrt(svyrecvar(matrix(z), des$cluster, des$strata, des$fpc, postStrata = des$postStrata)[1, 1]),
    # each unit its own PSU, with replacement, no n/(n-1): the convention of weights= without a design
    weights_only = sqrt(sum(z^2)))
}

out <- list()
add <- function(method, estimand, est, z) {
  se <- total_se(z)
  out[[length(out) + 1]] <<- data.frame(method = method, estimand = estimand, estimate = est,
                                        se_design = se[["design"]], se_weights = se[["weights_only"]])
}

# IPW, normalized weights
for (estimand in c("ATE", "ATT")) {
  if (estimand == "ATE") {
    w1 <- dd / p; w0 <- (1 - dd) / (1 - p)
    dw1 <- -(dd * (1 - p) / p) * X; dw0 <- ((1 - dd) * p / (1 - p)) * X
  } else {
    w1 <- dd; w0 <- (1 - dd) * p / (1 - p)
    dw1 <- 0 * X; dw0 <- ((1 - dd) * p / (1 - p)) * X
  }
  S1 <- sum(s * w1); S0 <- sum(s * w0)
  mu1 <- sum(s * w1 * y) / S1; mu0 <- sum(s * w0 * y) / S0
  g1 <- colSums(s * (y - mu1) * dw1) / S1
  g0 <- colSums(s * (y - mu0) * dw0) / S0
  z <- s * (w1 * (y - mu1) / S1 - w0 * (y - mu0) / S0) + as.vector(infl_ps %*% (g1 - g0))
  add("ipw", estimand, mu1 - mu0, z)
}

# AIPW: ATE (efficient influence function) and ATT (Sant'Anna and Zhao 2020, standardized weights)
phi <- m1 - m0 + dd * (y - m1) / p - (1 - dd) * (y - m0) / (1 - p)
est <- sum(s * phi) / S
g_ps <- colSums(s * (-(dd * (y - m1) * (1 - p) / p) - (1 - dd) * (y - m0) * p / (1 - p)) * X) / S
g_om <- colSums(s * ((1 - dd / p) * X1 - (1 - (1 - dd) / (1 - p)) * X0)) / S
z <- s * (phi - est) / S + as.vector(infl_ps %*% g_ps) + as.vector(infl_om %*% g_om)
add("aipw", "ATE", est, z)

w0 <- (1 - dd) * p / (1 - p)
B <- sum(s * dd) / S; E <- sum(s * w0) / S
r <- y - m0
t1 <- sum(s * dd * r) / S / B; t0 <- sum(s * w0 * r) / S / E
g_ps <- -colSums(s * w0 * (r - t0) * X) / S / E
g_om <- -colSums(s * dd * X0) / S / B + colSums(s * w0 * X0) / S / E
z <- s * (dd * (r - t1) / B - w0 * (r - t0) / E) / S + as.vector(infl_ps %*% g_ps) + as.vector(infl_om %*% g_om)
add("aipw", "ATT", t1 - t0, z)

res <- do.call(rbind, out)
write.csv(format(res, digits = 17), file.path(here, "impact_weights_reference.csv"), row.names = FALSE)
writeLines(c(R.version.string, paste("survey", as.character(packageVersion("survey"))),
             paste("generated", format(Sys.Date()))), file.path(here, "impact_weights_versions.txt"))
