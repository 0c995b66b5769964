"""The console's one app: operations on rules, users and failures."""
