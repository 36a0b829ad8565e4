"""Account SAS tokens made by the Azure SDKs, so wrk and curl need no signing."""

from datetime import datetime, timedelta, timezone

from azure.core.credentials import AzureNamedKeyCredential
from azure.data.tables import AccountSasPermissions as TableSasPermissions
from azure.data.tables import ResourceTypes as TableResourceTypes
from azure.data.tables import generate_account_sas as table_account_sas_sdk
from azure.storage.queue import AccountSasPermissions as QueueSasPermissions
from azure.storage.queue import ResourceTypes as QueueResourceTypes
from azure.storage.queue import generate_account_sas as queue_account_sas_sdk
from azure.storage.blob import AccountSasPermissions, ResourceTypes, generate_account_sas

from servers import ACCOUNT, KEY


def _expiry():
    return datetime.now(timezone.utc) + timedelta(hours=2)


def blob_account_sas():
    return generate_account_sas(
        ACCOUNT, KEY,
        resource_types=ResourceTypes(service=True, container=True, object=True),
        permission=AccountSasPermissions(read=True, write=True, delete=True, list=True, add=True, create=True),
        expiry=_expiry(),
    )


def table_account_sas():
    return table_account_sas_sdk(
        AzureNamedKeyCredential(ACCOUNT, KEY),
        resource_types=TableResourceTypes(service=True, container=True, object=True),
        permission=TableSasPermissions(read=True, write=True, delete=True, list=True, add=True, create=True, update=True),
        expiry=_expiry(),
    )


def queue_account_sas():
    return queue_account_sas_sdk(
        ACCOUNT, KEY,
        resource_types=QueueResourceTypes(service=True, container=True, object=True),
        permission=QueueSasPermissions(read=True, write=True, delete=True, list=True, add=True, create=True,
                                       update=True, process=True),
        expiry=_expiry(),
    )
