"""What admins run besides the cron entry: inspect, init, doctor, the demo."""
