"""What each mapped framework is: a catalogue of controls or a set of capabilities.

Control frameworks (NIST 800-53, CRI Profile, CSA CCM) are requirements an
organisation implements; their node keys carry the framework version because
`AC-4` of rev4 and of rev5 are different texts. Capabilities (cloud security
services, Intel vPro features, KEV vulnerabilities, VERIS enumerations) are keyed by
framework only. An unlisted framework is treated as capabilities, labelled by its id.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Framework:
    id: str
    label: str
    subject_kind: str


FRAMEWORKS: dict[str, Framework] = {
    f.id: f
    for f in (
        Framework("nist_800_53", "NIST 800-53", "control"),
        Framework("cri_profile", "CRI Profile", "control"),
        Framework("csa_ccm", "CSA Cloud Controls Matrix", "control"),
        Framework("azure", "Microsoft Azure", "capability"),
        Framework("aws", "Amazon Web Services", "capability"),
        Framework("gcp", "Google Cloud Platform", "capability"),
        Framework("m365", "Microsoft 365", "capability"),
        Framework("intel-vpro", "Intel vPro", "capability"),
        Framework("kev", "CISA Known Exploited Vulnerabilities", "capability"),
        Framework("veris", "VERIS", "capability"),
    )
}


def framework(framework_id: str) -> Framework:
    return FRAMEWORKS.get(framework_id) or Framework(framework_id, framework_id, "capability")
