"""Helpers the test suites share that are neither fixtures nor stores."""
