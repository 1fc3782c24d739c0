"""CLV model math in numpy/scipy: BG/NBD, Gamma-Gamma, sBG, and CLV over a horizon.

Modules: `summary` (transactions -> frequency/recency/T/monetary, the reference for the SQL
summary), `fit` (shared MLE driver, `FitResult`), `bgnbd`, `gamma_gamma`, `sbg` (contractual),
`value` (non-contractual CLV and time-unit helpers).
"""
