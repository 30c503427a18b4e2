"""Plane geometry on pixel coordinates (y grows downward, as in images)."""

from __future__ import annotations

import math

import numpy as np


def angle_deg(a: np.ndarray, vertex: np.ndarray, c: np.ndarray) -> float:
    """Angle a-vertex-c in degrees, 0 to 180; NaN when a side has no length."""
    u = np.asarray(a, dtype=np.float64) - np.asarray(vertex, dtype=np.float64)
    v = np.asarray(c, dtype=np.float64) - np.asarray(vertex, dtype=np.float64)
    nu = math.hypot(u[0], u[1])
    nv = math.hypot(v[0], v[1])
    if not (nu > 0 and nv > 0) or not (math.isfinite(nu) and math.isfinite(nv)):
        return math.nan
    cos = float(np.dot(u, v)) / (nu * nv)
    return math.degrees(math.acos(max(-1.0, min(1.0, cos))))


def distance(a: np.ndarray, b: np.ndarray) -> float:
    """Euclidean distance between two points."""
    d = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    return math.hypot(d[0], d[1])


def incline_deg(start: np.ndarray, end: np.ndarray) -> float:
    """Angle of the segment start->end above the horizontal, 0 to 90 degrees.

    The direction along the segment does not matter: a body lying flat is 0
    whichever way the head points, a body standing is 90.
    """
    dx = float(end[0]) - float(start[0])
    dy = float(end[1]) - float(start[1])
    if dx == 0 and dy == 0:
        return math.nan
    return math.degrees(math.atan2(abs(dy), abs(dx)))


def height_above_line(point: np.ndarray, start: np.ndarray, end: np.ndarray) -> float:
    """Signed distance of a point from the line start-end, positive when above.

    "Above" is the side of the line toward the top of the image, which is
    what a therapist means by lifting the hips off the floor when the camera
    is level. NaN for a degenerate line.
    """
    p = np.asarray(point, dtype=np.float64)
    s = np.asarray(start, dtype=np.float64)
    e = np.asarray(end, dtype=np.float64)
    d = e - s
    length = math.hypot(d[0], d[1])
    if not length > 0:
        return math.nan
    normal = np.array([d[1], -d[0]]) / length
    if normal[1] > 0:  # make the normal point up the image
        normal = -normal
    return float(np.dot(p - s, normal))
