"""The Switchyard operators' console: a Django project, the admin site its UI."""
