"""The home room: what the person must do next."""
