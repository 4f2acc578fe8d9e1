"""Government-service backend: applications (办件), hall appointments (预约), feedback and audit.

Callers use :class:`services.facade.Services` (one unit of work per call); its HTTP routers
live with the other routes in :mod:`channels.routes.services`. The ORM models are internal.
"""
