"""Government-service backend: applications (办件), hall appointments (预约), feedback and audit.

Callers use :class:`services.facade.Services` (one unit of work per call) or the FastAPI
routers in :mod:`services.api`; the ORM models are internal.
"""
