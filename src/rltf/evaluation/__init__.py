"""pass@k, reports and plots."""
