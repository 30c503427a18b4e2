"""Plane geometry on pixel coordinates (y grows downward, as in images)."""

from __future__ import annotations

import math

import numpy as np


def angle_deg(a: np.ndarray, vertex: np.ndarray, c: np.ndarray) -> float:
    """Angle a-vertex-c in degrees, 0 to 180; NaN when a side has no length."""
    # Plain floats: numpy's call overhead on two-element vectors costs more
    # than the arithmetic, and this runs for every angle of every frame.
    x, y = float(vertex[0]), float(vertex[1])
    ux, uy = float(a[0]) - x, float(a[1]) - y
    vx, vy = float(c[0]) - x, float(c[1]) - y
    nu = math.hypot(ux, uy)
    nv = math.hypot(vx, vy)
    if not (nu > 0 and nv > 0) or not (math.isfinite(nu) and math.isfinite(nv)):
        return math.nan
    cos = (ux * vx + uy * vy) / (nu * nv)
    return math.degrees(math.acos(max(-1.0, min(1.0, cos))))


def distance(a: np.ndarray, b: np.ndarray) -> float:
    """Euclidean distance between two points."""
    return math.hypot(float(a[0]) - float(b[0]), float(a[1]) - float(b[1]))


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
    sx, sy = float(start[0]), float(start[1])
    dx, dy = float(end[0]) - sx, float(end[1]) - sy
    length = math.hypot(dx, dy)
    if not length > 0:
        return math.nan
    nx, ny = dy / length, -dx / length
    if ny > 0:  # make the normal point up the image
        nx, ny = -nx, -ny
    return (float(point[0]) - sx) * nx + (float(point[1]) - sy) * ny
