"""Storage: message history (and, later, accounts and registered channels) behind ports."""
