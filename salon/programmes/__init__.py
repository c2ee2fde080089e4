"""The programme room: a bureau's salon series, its settings, communities and seats."""
