"""The connectors' one JSON logger (Powertools), shared by every module."""

import os

from aws_lambda_powertools import Logger

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "connectors"))
