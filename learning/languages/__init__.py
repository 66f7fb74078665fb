"""Interface languages: which one each request gets, and the switch every page offers."""
