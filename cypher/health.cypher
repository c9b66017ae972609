// Health check used while waiting for a server to come up.

// name: ping
RETURN 1 AS ok
