# Reference values for welfare_eval.survey.quantile and the inequality measures of
# welfare_eval.poverty (s80s20, arpr, theil, mean_log_deviation, atkinson, palma).
#   Rscript tests/reference/inequality_reference.R      (from the repository root)
# Needs Debian packages r-base-core, r-cran-survey and r-cran-laeken; the tests read only the CSVs.
# Writes tests/reference/{eusilc_data.csv, api_data.csv, inequality_reference.csv,
# quantile_reference.csv, inequality_versions.txt}.
#
# 1. Quantiles: svyquantile() with its defaults (qrule = "math", interval.type = "mean", i.e.
#    Woodruff's interval; se = interval width / (2 qt(0.975, degf))) on R survey's own apistrat
#    (stratified, fpc) and apiclus1 (one-stage cluster sample, fpc) data, overall and in domains
#    (each domain R's subset design, as svyby() builds it).
# 2. Distribution measures on laeken's own eusilc data (persons, weights rb050, income eqIncome,
#    regions db040): laeken's qsr (S80/S20) and arpr (60% of the weighted median of the whole
#    sample, applied in every region, Eurostat's convention) and gini, overall and by region.
#    The R package convey (svyzenga, svygei, svyatk) is not packaged for Debian (apt-cache policy
#    r-cran-convey: no candidate), so the generalized entropy measures GE(0) (mean log deviation) and
#    GE(1) (Theil), the Atkinson indices (e = 0.5, 1, 2) and the Palma ratio are computed here from
#    their formulas (Cowell 2011; Atkinson 1970; Cobham and Sumner 2013), with laeken's
#    weightedQuantile for the deciles of the Palma ratio (the rule of its qsr). Measures that take
#    log(income) are computed on the persons with positive income (3 of 14827 have zero): sample
#    "positive"; the others on all persons: sample "all".
suppressPackageStartupMessages({library(survey); library(laeken)})
options(digits = 17)
here <- "tests/reference"
data(eusilc, package = "laeken")
data(api, package = "survey")
write.csv(eusilc[, c("db030", "db040", "rb090", "rb050", "eqIncome")], file.path(here, "eusilc_data.csv"),
          row.names = FALSE)
api <- rbind(cbind(sample = "apistrat", apistrat[, c("cds", "stype", "dnum", "pw", "fpc", "api00", "enroll", "awards")]),
             cbind(sample = "apiclus1", apiclus1[, c("cds", "stype", "dnum", "pw", "fpc", "api00", "enroll", "awards")]))
write.csv(api, file.path(here, "api_data.csv"), row.names = FALSE)

# ---- 1. quantiles ------------------------------------------------------------------------------
api <- read.csv(file.path(here, "api_data.csv"), stringsAsFactors = FALSE)
st <- api[api$sample == "apistrat", ]
cl <- api[api$sample == "apiclus1", ]
dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc, data = st)
dclus <- svydesign(id = ~dnum, weights = ~pw, fpc = ~fpc, data = cl)
probs <- c(0.1, 0.25, 0.5, 0.75, 0.9)
qout <- list()
qrun <- function(case, design, data, variable, byvar) {
  doms <- if (is.null(byvar)) "all" else sort(unique(data[[byvar]]))
  for (v in doms) {
    sub <- if (is.null(byvar)) design else design[data[[byvar]] == v, ]
    q <- svyquantile(as.formula(paste0("~", variable)), sub, quantiles = probs)[[1]]
    qout[[length(qout) + 1]] <<- data.frame(
      case = case, variable = variable, domain = v, quantile = probs, estimate = q[, 1],
      ci_lower = q[, 2], ci_upper = q[, 3], std_error = q[, 4], df = degf(sub), stringsAsFactors = FALSE)
  }
}
qrun("apistrat", dstrat, st, "api00", NULL)
qrun("apistrat", dstrat, st, "enroll", NULL)
qrun("apistrat_by_awards", dstrat, st, "api00", "awards")
qrun("apistrat_by_stype", dstrat, st, "api00", "stype")
qrun("apiclus1", dclus, cl, "api00", NULL)
qrun("apiclus1_by_stype", dclus, cl, "api00", "stype")
qres <- do.call(rbind, qout)
write.csv(format(qres, digits = 17), file.path(here, "quantile_reference.csv"), row.names = FALSE)

# ---- 2. distribution measures (laeken and formulas) --------------------------------------------
e <- read.csv(file.path(here, "eusilc_data.csv"), stringsAsFactors = FALSE)
ge <- function(x, w, alpha) {
  mu <- sum(w * x) / sum(w)
  if (alpha == 0) return(sum(w * log(mu / x)) / sum(w))
  if (alpha == 1) return(sum(w * (x / mu) * log(x / mu)) / sum(w))
  (sum(w * (x / mu)^alpha) / sum(w) - 1) / (alpha * (alpha - 1))
}
atk <- function(x, w, eps) {
  mu <- sum(w * x) / sum(w)
  m <- if (eps == 1) exp(sum(w * log(x)) / sum(w)) else (sum(w * x^(1 - eps)) / sum(w))^(1 / (1 - eps))
  1 - m / mu
}
palma <- function(x, w) {
  q <- weightedQuantile(x, w, c(0.4, 0.9))
  sum(w[x > q[2]] * x[x > q[2]]) / sum(w[x <= q[1]] * x[x <= q[1]])
}
rows <- list()
add <- function(measure, sample, domain, value) {
  rows[[length(rows) + 1]] <<- data.frame(measure = measure, sample = sample, domain = domain,
                                          estimate = value, stringsAsFactors = FALSE)
}
regions <- sort(unique(e$db040))
a <- arpr("eqIncome", weights = "rb050", breakdown = "db040", data = e)
add("arpr", "all", "all", a$value / 100)
for (r in regions) add("arpr", "all", r, a$valueByStratum$value[a$valueByStratum$stratum == r] / 100)
add("arpt", "all", "all", a$threshold)
q <- qsr("eqIncome", weights = "rb050", breakdown = "db040", data = e)
add("s80s20", "all", "all", q$value)
for (r in regions) add("s80s20", "all", r, q$valueByStratum$value[q$valueByStratum$stratum == r])
g <- gini("eqIncome", weights = "rb050", breakdown = "db040", data = e)
add("gini", "all", "all", g$value / 100)
for (r in regions) add("gini", "all", r, g$valueByStratum$value[g$valueByStratum$stratum == r] / 100)
pos <- e[e$eqIncome > 0, ]
formulas <- list(
  list("theil", "all", function(x, w) ge(pmax(x, 1e-300), w, 1)),   # x log x -> 0 at x = 0
  list("mean_log_deviation", "positive", function(x, w) ge(x, w, 0)),
  list("atkinson_0.5", "all", function(x, w) atk(x, w, 0.5)),
  list("atkinson_1", "positive", function(x, w) atk(x, w, 1)),
  list("atkinson_2", "positive", function(x, w) atk(x, w, 2)),
  list("palma", "all", palma))
for (f in formulas) {
  dd <- if (f[[2]] == "positive") pos else e
  add(f[[1]], f[[2]], "all", f[[3]](dd$eqIncome, dd$rb050))
  for (r in regions) {
    i <- dd$db040 == r
    add(f[[1]], f[[2]], r, f[[3]](dd$eqIncome[i], dd$rb050[i]))
  }
}
res <- do.call(rbind, rows)
write.csv(format(res, digits = 17), file.path(here, "inequality_reference.csv"), row.names = FALSE)
writeLines(c(R.version.string, paste("survey", as.character(packageVersion("survey"))),
             paste("laeken", as.character(packageVersion("laeken"))),
             paste("generated", format(Sys.Date()))), file.path(here, "inequality_versions.txt"))
cat(nrow(qres), "quantile rows and", nrow(res), "measure rows written\n")
