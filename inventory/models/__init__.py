"""Models of Nova's Essex tables (schema version 82), grouped by area.

Every table keeps Nova's name (``db_table``); the classes say what the rows
are (``Flavor`` for ``instance_types``).
"""

from .base import NovaModel, SchemaFacts, SoftDeleteModel
from .compute import (
    BlockDeviceMapping,
    Flavor,
    FlavorExtraSpec,
    Instance,
    InstanceAction,
    InstanceFault,
    InstanceInfoCache,
    InstanceMetadata,
    KeyPair,
    Migration,
    S3Image,
    VirtualStorageArray,
)
from .hosts import (
    AgentBuild,
    Aggregate,
    AggregateHost,
    AggregateMetadata,
    BandwidthUsage,
    Cell,
    ComputeNode,
    Console,
    ConsolePool,
    Service,
)
from .identity import (
    AuthToken,
    Certificate,
    Project,
    Quota,
    User,
    UserProjectMembership,
    UserProjectRole,
    UserRole,
)
from .network import (
    DnsDomain,
    FixedIp,
    FloatingIp,
    Network,
    ProviderFirewallRule,
    SecurityGroup,
    SecurityGroupInstance,
    SecurityGroupRule,
    VirtualInterface,
)
from .volume import (
    IscsiTarget,
    SmBackendConfig,
    SmFlavor,
    SmVolume,
    Snapshot,
    Volume,
    VolumeMetadata,
    VolumeType,
    VolumeTypeExtraSpec,
)

__all__ = [name for name in dir() if not name.startswith("_")]
