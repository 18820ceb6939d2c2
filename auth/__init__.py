"""Every piece of the SDK's auth wiring, and the one place (`cloud.py`) where the cloud's endpoints are chosen."""
