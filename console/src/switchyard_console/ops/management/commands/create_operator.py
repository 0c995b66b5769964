"""Create (or update) a staff account with a chosen set of console permissions.

    manage.py create_operator --username ops --email ops@example.com \
        --password-env OPERATOR_PASSWORD [--role operator|viewer]

``operator`` gets every console permission (and may read the audit trail);
``viewer`` gets the view permissions only. The password is read from the
named environment variable, so it never appears in a shell history.
"""

import os
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand, CommandError, CommandParser

VIEW = ["view_rules", "view_users", "view_failures", "view_auditrecord"]
ROLES = {
    "viewer": VIEW,
    "operator": [
        *VIEW,
        "change_rules",
        "change_users",
        "redrive_failures",
        "discard_failures",
    ],
}


def role_group(role: str) -> Group:
    """The group of a role, with exactly the role's console permissions."""
    group, _ = Group.objects.get_or_create(name=f"Switchyard {role}s")
    found = list(
        Permission.objects.filter(
            content_type__app_label="console", codename__in=ROLES[role]
        )
    )
    missing = set(ROLES[role]) - {p.codename for p in found}
    if missing:
        raise CommandError(
            f"permissions {sorted(missing)} do not exist yet; "
            "run manage.py migrate first"
        )
    group.permissions.set(found)
    return group


class Command(BaseCommand):
    help = "Create or update a staff account for the Switchyard console."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", required=True)
        parser.add_argument("--email", default="")
        parser.add_argument(
            "--password-env",
            default="OPERATOR_PASSWORD",
            help="environment variable holding the password",
        )
        parser.add_argument("--role", choices=sorted(ROLES), default="operator")

    def handle(self, *args: Any, **options: Any) -> None:
        password = os.environ.get(options["password_env"], "")
        if not password:
            raise CommandError(f"set the password in ${options['password_env']} first")
        group = role_group(options["role"])
        model = get_user_model()
        user, created = model.objects.get_or_create(username=options["username"])
        user.email = options["email"] or user.email
        user.is_staff = True
        user.is_active = True
        user.set_password(password)
        user.save()
        user.groups.add(group)
        verb = "created" if created else "updated"
        self.stdout.write(f"{verb} {options['role']} {user.username!r} ({group.name})")
