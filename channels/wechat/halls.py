"""The nearest government-service hall to a location a resident sends."""

from __future__ import annotations

import math
from pathlib import Path

import yaml
from pydantic import BaseModel

_EARTH_RADIUS_KM = 6371.0


class Hall(BaseModel):
    name: str
    address: str
    phone: str
    hours: str
    latitude: float
    longitude: float


class HallDirectory(BaseModel):
    halls: list[Hall]
    sample_notice: str | None = None

    @classmethod
    def load(cls, halls_file: Path) -> HallDirectory:
        data = yaml.safe_load(halls_file.read_text(encoding="utf-8")) or {}
        return cls.model_validate(data)

    def nearest(self, latitude: float, longitude: float) -> tuple[Hall, float] | None:
        """The closest hall and its great-circle distance in km."""
        if not self.halls:
            return None
        hall = min(self.halls, key=lambda h: distance_km(latitude, longitude, h.latitude, h.longitude))
        return hall, distance_km(latitude, longitude, hall.latitude, hall.longitude)


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi, d_lambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * _EARTH_RADIUS_KM * math.asin(math.sqrt(min(1.0, a)))
