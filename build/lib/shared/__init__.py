"""What crosses a service boundary (message schemas, names) and the platform's plumbing."""
