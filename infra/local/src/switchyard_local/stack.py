"""The whole local system as one object: ``with LocalStack() as stack: ...``.

Start order: the moto server; the shared stack deployed into it from
``infra/templates/shared.yaml``; every function of the service templates in
its worker processes; the Lambda Invoke API; the event source mappings; API
Gateway; the site; the console. A stop stops all of it, every child process
by its process group, and removes the stack's work directory.
"""

import json
import logging
import os
import shutil
import tempfile
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import Any

from switchyard_local.api_definition import routes_from_template
from switchyard_local.apigateway import ApiGateway, Route, default_routes
from switchyard_local.async_invoke import AsyncInvoker
from switchyard_local.authorizer import CognitoAuthorizer
from switchyard_local.console_process import ConsoleProcess
from switchyard_local.destinations import Destinations
from switchyard_local.errors import StackError
from switchyard_local.http_server import LoopbackServer
from switchyard_local.invoke_api import InvokeApi
from switchyard_local.kinesis_poller import KinesisPoller
from switchyard_local.moto_server import (
    FAKE_CREDENTIALS,
    REGION,
    MotoServer,
    aws_environment,
    free_port,
    local_client,
)
from switchyard_local.packages import built_path, package_path
from switchyard_local.runner import FunctionRunner, LogSink, print_sink
from switchyard_local.site_server import SiteApp, site_config
from switchyard_local.sqs_poller import SqsPoller
from switchyard_local.templates import (
    FunctionSpec,
    InvokeConfigSpec,
    ServiceSpec,
    load_template,
    read_service,
)

logger = logging.getLogger(__name__)

# Local parameters of the service templates: what differs from AWS on purpose.
LOCAL_PARAMETERS = {
    "ArtifactBucket": "local-artifacts",
    "ArtifactKey": "local.zip",
    "WebhookAllowlist": "127.0.0.1",
}


def repo_root() -> Path:
    """The monorepo's root: the directory holding ``infra/templates``."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "infra" / "templates" / "shared.yaml").is_file():
            return parent
    raise StackError(f"no infra/templates/shared.yaml above {here}")


class FileSink:
    """A log sink writing prefixed lines to a file, thread-safely."""

    def __init__(self, path: Path) -> None:
        self._lock = threading.Lock()
        self._stream = open(path, "a", buffering=1, encoding="utf-8")  # noqa: SIM115

    def __call__(self, name: str, line: str) -> None:
        with self._lock:
            if not self._stream.closed:
                self._stream.write(f"[{name}] {line}\n")

    def close(self) -> None:
        with self._lock:
            self._stream.close()


class LocalStack:
    """Switchyard on one machine; every URL and name a test or a person needs."""

    def __init__(
        self,
        stage: str = "local",
        console: bool = False,
        site: bool = True,
        *,
        root: Path | None = None,
        log_path: Path | str | None = None,
        concurrency: int = 2,
        services: list[str] | None = None,
        async_retry_delays: tuple[float, ...] = (0.5, 1.0),
        parameters: dict[str, str] | None = None,
        prefer_built: bool = True,
    ) -> None:
        self.stage = stage
        self.want_console = console
        self.want_site = site
        self.root = Path(root) if root else repo_root()
        self.log_path = Path(log_path) if log_path else None
        self.concurrency = concurrency
        self.services = services
        self.async_retry_delays = async_retry_delays
        self.parameters = {**LOCAL_PARAMETERS, **(parameters or {})}
        self.prefer_built = prefer_built
        self.site_origin = ""

        self.moto: MotoServer | None = None
        self.moto_url = ""
        self.lambda_url = ""
        self.api_url = ""
        self.site_url: str | None = None
        self.console_url: str | None = None
        self.outputs: dict[str, str] = {}
        self.exports: dict[str, str] = {}
        self.functions: dict[str, FunctionSpec] = {}
        self.skipped: dict[str, str] = {}
        self.startup_seconds = 0.0
        # Seconds since start at which each step finished, for bench and up.
        self.timings: dict[str, float] = {}
        self.work_dir: Path | None = None
        self.runner: FunctionRunner | None = None
        self.invoker: AsyncInvoker | None = None
        self.kinesis_pollers: list[KinesisPoller] = []
        self.sqs_pollers: list[SqsPoller] = []
        self.console: ConsoleProcess | None = None
        self.routes: list[Route] = []
        self._servers: list[LoopbackServer] = []
        self._console_error: StackError | None = None
        self._file_sink: FileSink | None = None

    # Life cycle.

    def start(self) -> "LocalStack":
        started = time.monotonic()
        self.work_dir = Path(tempfile.mkdtemp(prefix=f"switchyard-{self.stage}-"))
        for name, value in {**FAKE_CREDENTIALS, "AWS_DEFAULT_REGION": REGION}.items():
            os.environ.setdefault(name, value)
        try:
            self._start(started)
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self, started: float) -> None:
        assert self.work_dir is not None
        # Building the packages needs no AWS: it runs while moto starts.
        builds = self._start_builds()
        # So does the console's migrate, which takes seconds.
        migration = threading.Thread(target=self._migrate_console, daemon=True)
        migration.start()
        self.moto = MotoServer(log_path=str(self.work_dir / "moto.log")).start()
        self._mark("moto", started)
        self.moto_url = self.moto.endpoint_url
        lambda_port, api_port, site_port = free_port(), free_port(), free_port()
        self.lambda_url = f"http://127.0.0.1:{lambda_port}"
        site_origin = f"http://127.0.0.1:{site_port}"
        self.site_origin = site_origin

        from switchyard_local.provision import deploy_stack

        shared = deploy_stack(
            self.root / "infra" / "templates" / "shared.yaml",
            f"switchyard-{self.stage}-shared",
            {"Stage": self.stage, "SiteOrigin": site_origin},
            endpoint_url=self.moto_url,
        )
        self.outputs = dict(shared.outputs)
        cfn = self.client("cloudformation")
        self.exports = {e["Name"]: e["Value"] for e in cfn.list_exports()["Exports"]}

        console_thread = threading.Thread(
            target=self._start_console, args=(migration,), daemon=True
        )
        console_thread.start()

        sink: LogSink = print_sink
        if self.log_path:
            self._file_sink = FileSink(self.log_path)
            sink = self._file_sink
        self.runner = FunctionRunner(sink, self.concurrency)
        self._mark("shared stack", started)
        services = self._read_services(site_origin, builds)
        self._mark("packages", started)
        destinations = Destinations(self.moto_url)
        configs: dict[str, InvokeConfigSpec] = {}
        for spec in services.values():
            for config in spec.invoke_configs:
                configs[config.function_name] = config
        self.invoker = AsyncInvoker(
            self.runner, destinations, configs, retry_delays=self.async_retry_delays
        )
        destinations.invoke_async = lambda arn, body: self.invoker.submit(arn, body)
        self._serve(
            InvokeApi(self.runner, self.invoker, self.moto_url),
            "lambda-api",
            lambda_port,
        )

        warm = threading.Thread(target=self.runner.prewarm, daemon=True)
        warm.start()

        self.routes = self._routes()
        authorizer = CognitoAuthorizer(
            jwks_url=f"{self.moto_url}/{self.outputs['UserPoolId']}"
            "/.well-known/jwks.json",
            issuer=f"https://cognito-idp.{REGION}.amazonaws.com/"
            f"{self.outputs['UserPoolId']}",
            client_ids=[self.outputs["UserPoolClientId"]],
        )
        gateway = ApiGateway(
            routes=self.routes,
            runner=self.runner,
            authorizer=authorizer,
            moto_url=self.moto_url,
            stage=self.stage,
            allowed_origins=[site_origin, f"http://localhost:{site_port}"],
            default_stream=self.outputs["EventsStreamName"],
        )
        server = self._serve(gateway, "api-gateway", api_port)
        self.api_url = f"{server.url}/{self.stage}"

        site_dir = self.root / "site"
        if self.want_site and site_dir.is_dir():
            config = site_config(
                api_url=self.api_url,
                region=REGION,
                user_pool_id=self.outputs["UserPoolId"],
                client_id=self.outputs["UserPoolClientId"],
                cognito_url=self.moto_url,
            )
            self.site_url = self._serve(
                SiteApp(site_dir, config), "site", site_port
            ).url

        for spec in services.values():
            for mapping in spec.mappings:
                if mapping.function_name not in self.runner.functions:
                    continue
                if mapping.kind == "kinesis":
                    poller = KinesisPoller(
                        mapping, self.runner, destinations, self.moto_url
                    )
                    self.kinesis_pollers.append(poller.start())
                elif mapping.kind == "sqs":
                    self.sqs_pollers.append(
                        SqsPoller(mapping, self.runner, self.moto_url).start()
                    )

        warm.join()
        self._mark("warm workers", started)
        console_thread.join()
        self._mark("console", started)
        if self._console_error is not None:
            raise self._console_error
        self.startup_seconds = time.monotonic() - started

    def _migrate_console(self) -> None:
        """The console's database; it needs no AWS, so it runs from the start."""
        assert self.work_dir is not None
        manage_py = self.root / "console" / "manage.py"
        if not (self.want_console and manage_py.is_file()):
            return
        console = ConsoleProcess(
            manage_py, free_port(), self.console_env(), self.work_dir / "console.log"
        )
        try:
            console.manage("migrate", "--noinput")
        except StackError as exc:
            self._console_error = exc
            return
        self.console = console

    def _start_console(self, migration: threading.Thread) -> None:
        migration.join()
        if self.console is None:
            return
        # Now that the shared stack exists, its names go into the environment.
        self.console.env = self.console_env()
        try:
            self.console.start(migrate=False)
        except StackError as exc:
            self._console_error = exc
            return
        self.console_url = self.console.url

    def _mark(self, step: str, started: float) -> None:
        self.timings[step] = round(time.monotonic() - started, 2)

    def _serve(self, app: Any, name: str, port: int) -> LoopbackServer:
        server = LoopbackServer(app, name, port).start()
        self._servers.append(server)
        return server

    def _service_templates(self) -> dict[str, Path]:
        templates = sorted((self.root / "infra" / "templates").glob("service-*.yaml"))
        found = {p.stem.removeprefix("service-"): p for p in templates}
        return {
            name: path
            for name, path in found.items()
            if self.services is None or name in self.services
        }

    def _start_builds(self) -> dict[str, Future[Path | None]]:
        """Each service's built package, being built in parallel."""
        if not self.prefer_built:
            return {}
        executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="build")
        futures = {
            name: executor.submit(built_path, name)
            for name in self._service_templates()
        }
        executor.shutdown(wait=False)
        return futures

    def _read_services(
        self, site_origin: str, builds: dict[str, Future[Path | None]]
    ) -> dict[str, ServiceSpec]:
        assert self.runner is not None
        services: dict[str, ServiceSpec] = {}
        for service, path in self._service_templates().items():
            built = builds[service].result() if service in builds else None
            template = load_template(path)
            declared = template.get("Parameters") or {}
            given = {"Stage": self.stage, "CorsAllowedOrigins": site_origin}
            given.update(self.parameters)
            spec = read_service(
                template,
                {k: v for k, v in given.items() if k in declared},
                self.exports,
                f"switchyard-{self.stage}-{service}",
            )
            self.exports.update(spec.exports)
            services[service] = spec
            for function in spec.functions:
                found = package_path(self.root, service, function.handler, built)
                if found is None:
                    self.skipped[function.name] = (
                        f"handler {function.handler} not found in {service}'s package"
                    )
                    logger.warning(
                        "not running %s: %s", function.name, self.skipped[function.name]
                    )
                    continue
                reserved = spec.reserved_concurrency.get(function.name, 0)
                concurrency = min(self.concurrency, reserved) if reserved > 0 else None
                self.runner.add(
                    function, found, self.moto_url, self.lambda_url, concurrency
                )
                self.functions[function.name] = function
        return services

    def _routes(self) -> list[Route]:
        api = self.root / "infra" / "templates" / "api.yaml"
        if api.is_file():
            routes = routes_from_template(
                load_template(api),
                {
                    "Stage": self.stage,
                    "SiteOrigin": self.site_origin,
                    **self.parameters,
                },
                self.exports,
                f"switchyard-{self.stage}-api",
            )
            if routes:
                return routes
        return default_routes(self.stage, self.outputs["EventsStreamName"])

    def console_env(self) -> dict[str, str]:
        """The console's environment: Django settings and the local AWS."""
        assert self.work_dir is not None
        outputs = self.outputs
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(aws_environment(self.moto_url))
        env.update(
            {
                "AWS_ENDPOINT_URL_LAMBDA": self.lambda_url,
                "DJANGO_DEBUG": "true",
                "DATABASE_URL": f"sqlite:///{self.work_dir / 'console.sqlite3'}",
                "RULES_BUCKET": outputs.get("RulesBucketName", ""),
                "RULES_KEY": "rules/rules.json",
                "FAILED_EVENTS_TABLE": outputs.get("FailedEventsTableName", ""),
                "USERS_TABLE": outputs.get("UsersTableName", ""),
                "EVENTS_STREAM_NAME": outputs.get("EventsStreamName", ""),
                "DEAD_LETTER_QUEUE_URL": outputs.get("DeadLetterQueueUrl", ""),
                "UNPROCESSABLE_QUEUE_URL": outputs.get("UnprocessableQueueUrl", ""),
                "CONNECTOR_FUNCTIONS": json.dumps(self.connector_functions()),
                "PAYLOAD_BUCKET": outputs.get("PayloadBucketName", ""),
                "IDEMPOTENCY_TABLE": outputs.get("IdempotencyTableName", ""),
            }
        )
        return env

    def connector_functions(self) -> dict[str, str]:
        return {
            "dynamodb": f"switchyard-{self.stage}-connector-dynamodb",
            "webhook": f"switchyard-{self.stage}-connector-webhook",
        }

    def child_pids(self) -> list[int]:
        """Process ids of every process this stack started and still holds."""
        pids = []
        if self.moto is not None and self.moto.pid is not None:
            pids.append(self.moto.pid)
        if self.runner is not None:
            pids.extend(self.runner.pids())
        if self.console is not None and self.console.process is not None:
            pids.append(self.console.process.pid)
        return pids

    def stop(self) -> None:
        """Stop every server, poller, worker and child process; safe twice."""
        for poller in [*self.kinesis_pollers, *self.sqs_pollers]:
            poller.stop()
        self.kinesis_pollers, self.sqs_pollers = [], []
        if self.invoker is not None:
            self.invoker.stop()
            self.invoker = None
        for server in self._servers:
            server.stop()
        self._servers = []
        if self.runner is not None:
            self.runner.stop()
            self.runner = None
        if self.console is not None:
            self.console.stop()
            self.console = None
        if self.moto is not None:
            self.moto.stop()
            self.moto = None
        if self._file_sink is not None:
            self._file_sink.close()
            self._file_sink = None
        if self.work_dir is not None:
            shutil.rmtree(self.work_dir, ignore_errors=True)
            self.work_dir = None

    def __enter__(self) -> "LocalStack":
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # Helpers for tests and for ``make up``.

    def client(self, service: str) -> Any:
        """A boto3 client of the local AWS (Lambda: the local Invoke API)."""
        endpoint = self.lambda_url if service == "lambda" else self.moto_url
        return local_client(service, endpoint)

    def create_user(self, email: str, password: str) -> dict[str, Any]:
        """Sign up, confirm as an admin and sign in; the AuthenticationResult."""
        idp = self.client("cognito-idp")
        client_id = self.outputs["UserPoolClientId"]
        idp.sign_up(
            ClientId=client_id,
            Username=email,
            Password=password,
            UserAttributes=[{"Name": "email", "Value": email}],
        )
        pool = self.outputs["UserPoolId"]
        idp.admin_confirm_sign_up(UserPoolId=pool, Username=email)
        # As if the user had followed the e-mail's code: the user API stores
        # the address (for the console's find-by-e-mail) only when verified.
        idp.admin_update_user_attributes(
            UserPoolId=pool,
            Username=email,
            UserAttributes=[{"Name": "email_verified", "Value": "true"}],
        )
        answer = idp.initiate_auth(
            ClientId=client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": email, "PASSWORD": password},
        )
        return dict(answer["AuthenticationResult"])

    def put_rules(self, document: dict[str, Any]) -> str:
        """Write the rules document where the router reads it; its version id."""
        answer = self.client("s3").put_object(
            Bucket=self.outputs["RulesBucketName"],
            Key="rules/rules.json",
            Body=json.dumps(document).encode(),
            ContentType="application/json",
        )
        return str(answer.get("VersionId", ""))

    def create_delivery_table(self, suffix: str, key: str = "id") -> str:
        """A DynamoDB table the DynamoDB connector may write to."""
        name = f"switchyard-{self.stage}-delivery-{suffix}"
        self.client("dynamodb").create_table(
            TableName=name,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
            KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
        )
        return name

    def queue_depth(self, queue_url: str) -> int:
        attributes = self.client("sqs").get_queue_attributes(
            QueueUrl=queue_url,
            AttributeNames=[
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesNotVisible",
            ],
        )["Attributes"]
        return sum(int(v) for v in attributes.values())

    def busy(self) -> bool:
        """Whether anything is still moving: stream, async queue, dead letters."""
        if self.invoker is not None and self.invoker.pending:
            return True
        if not all(p.idle for p in self.kinesis_pollers):
            return True
        if not all(p.idle for p in self.sqs_pollers):
            return True
        return self.queue_depth(self.outputs["DeadLetterQueueUrl"]) > 0

    def wait_until_idle(self, timeout: float = 120.0, settle: float = 1.5) -> bool:
        """Block until nothing has moved for ``settle`` seconds; False on timeout."""
        deadline = time.monotonic() + timeout
        quiet_since: float | None = None
        while time.monotonic() < deadline:
            if self.busy():
                quiet_since = None
            elif quiet_since is None:
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since >= settle:
                return True
            time.sleep(0.2)
        return False
