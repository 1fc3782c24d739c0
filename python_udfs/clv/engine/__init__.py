"""The CLV prediction engine and the model steps behind the CLV marts (numpy, scipy, scikit-learn).

The dbt Python models in models/*/clv/ only read relations and call these modules:

* `settings`: a CLV metric's compiled config; `windows`: cutoff, history and prediction windows;
  `threads`: one thread per numeric library while computing;
* `population`: BG/NBD, Gamma-Gamma and sBG fitted on every customer of a metric, and the
  customer values they imply (`contractual` holds the subscription arithmetic);
* the prediction engine: `features` (history-window summary, realised value), `baseline`
  (BG/NBD + Gamma-Gamma), `boosting` (gradient-boosted regressor), `evaluation` (capped RMSE and
  R²), `training` (held-out comparison, the champion), `grid` (window grid search), `champion`
  (when to train), `tiers`, `clusters`, `scoring`, `drift`, `cards` (model cards) and
  `stored_models` (the stored champion).
"""
