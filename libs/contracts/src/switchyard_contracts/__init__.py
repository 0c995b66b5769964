"""Wire contracts shared by Switchyard's services.

The router, the connectors, the dead-letter processor and the console talk to
each other through JSON documents: a delivery batch (router to connector, by
async invoke) and a failure record (anyone to the dead-letter queue). Each
document's shape lives here once, so every side reads and writes the same
thing. The package is pure Python with no dependencies, so it costs nothing in
a Lambda zip.
"""

from switchyard_contracts.deliveries import Delivery, DeliveryBatch, target_id
from switchyard_contracts.errors import ContractError
from switchyard_contracts.failures import FailureError, FailureRecord, Origin
from switchyard_contracts.registry import ConnectorRegistry

__all__ = [
    "ConnectorRegistry",
    "ContractError",
    "Delivery",
    "DeliveryBatch",
    "FailureError",
    "FailureRecord",
    "Origin",
    "target_id",
]
