"""Imports a package that is not installed: the implementation's failure, not a wrong name."""
import a_package_that_is_not_installed  # noqa: F401
