"""FHIR R4 under /fhir: translators domain <-> FHIR (one module per resource type, in
``translators``), reads and searches (``reads``), writes (``writes``), the
CapabilityStatement (``capability``) and the routes (``api``). The platform finds
``router`` here as it finds an area's ``api`` and ``pages`` routers."""

from ketaclinic.interop.fhir.api import router

__all__ = ["router"]
