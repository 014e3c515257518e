"""RMA queries compiled against the SQLAlchemy models and run (`run.run_query`).

* Model names resolve through `schema.model_classes()`, associations through mapper
  relationships, attributes through visible columns (hidden ones do not exist for RMA).
* Criteria paths are semi-joins restricting the top model (`criteria`); a path without an
  association filters the model itself. Every value is a bound parameter, typed by its column
  (`values`).
* Includes are eager loads (`includes`); filters inside an include restrict the included
  children and, like the real API's inner join, the parents (a parent with no matching child
  disappears). An include without filters never removes parents.
* Options: `num_rows` defaults to 50, `'all'` streams every row, numbers are clamped to 25,000
  (`paging`). Without `order` rows come in primary-key order; the key is always the last
  tie-breaker. An order key naming an included association (`sub_images.section_number`) sorts
  those children.
* `tabular` returns flat rows of chosen columns instead (`tabular`).
* Pipes: `pipe::list[var$is'field']` binds the previous stage's `field` values to `$var`
  (`pipes`). Services are not available. Only the last stage's result is returned.
"""
