"""The CI checks of deploy/ (issue 17): see README.md beside this file."""
