"""What the service reports about itself to other tools: Prometheus metrics, OpenTelemetry traces."""
