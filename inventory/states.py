"""Nova's instance state vocabularies (Essex): fixed choices for filters and labels.

``vm_state`` and ``task_state`` are strings Nova writes; ``power_state`` is the
integer code Nova's ``nova/compute/power_state.py`` defines. Essex knew a few
codes later releases dropped (BLOCKED, SHUTOFF, FAILED, BUILDING); they are
kept so an old row still gets its name.
"""

VM_STATES = (
    "active",
    "building",
    "rebuilding",
    "paused",
    "suspended",
    "rescued",
    "resized",
    "stopped",
    "soft-delete",
    "deleted",
    "migrating",
    "resizing",
    "error",
)

TASK_STATES = (
    "scheduling",
    "block_device_mapping",
    "networking",
    "spawning",
    "image_snapshot",
    "image_backup",
    "updating_password",
    "resize_prep",
    "resize_migrating",
    "resize_migrated",
    "resize_finish",
    "resize_reverting",
    "resize_confirming",
    "resize_verify",
    "rebuilding",
    "rebooting",
    "rebooting_hard",
    "pausing",
    "unpausing",
    "suspending",
    "resuming",
    "powering_off",
    "powering_on",
    "rescuing",
    "unrescuing",
    "deleting",
    "stopping",
    "starting",
)

#: code -> name, as nova/compute/power_state.py.
POWER_STATES = {
    0: "NOSTATE",
    1: "RUNNING",
    2: "BLOCKED",
    3: "PAUSED",
    4: "SHUTDOWN",
    5: "SHUTOFF",
    6: "CRASHED",
    7: "SUSPENDED",
    8: "FAILED",
    9: "BUILDING",
}


def power_state_name(code):
    if code is None:
        return "-"
    return POWER_STATES.get(code, f"unknown ({code})")
