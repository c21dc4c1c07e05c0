"""The report: figures and tables of every stage, result tables, studies and the papers' figures."""
