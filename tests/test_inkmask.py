"""The clean-up's shortcuts give exactly what the whole-page computation gives.

Binarisation, the final blur and the dark-border search look only where the answer can differ
from plain paper (pipeline/page/inkmask.py, preprocess.py). Each is compared here, pixel for pixel,
with the straightforward whole-page version on random pages: ink at the page's edges, in
partial Sauvola blocks, at several scales. The image Tesseract reads must not move by a pixel.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image

from pipeline.page import inkmask, preprocess
from pipeline.page.inkmask import (
    STRONG_INK,
    Gray,
    Mask,
    as_gray,
    binarize,
    blur,
    blur_ink,
)


def _paper_page(ink: Mask) -> tuple[Gray, tuple[int, int, int, int] | None]:
    """The whole-page reference: the mask as ink 0 on paper 255, and the box of its ink."""
    mask = np.ascontiguousarray(ink).view(np.uint8)
    left, top, width, height = cv2.boundingRect(mask)
    page = cv2.threshold(mask, 0, 255, cv2.THRESH_BINARY_INV)[1]
    return as_gray(page), ((left, top, width, height) if width else None)


def _whole_page_sauvola(gray: Gray, window: int, cap: int) -> Gray:
    factor = 4
    height, width = gray.shape
    radius = max(1, window // (2 * factor))

    def shrink(values: Gray) -> Gray:
        return np.asarray(Image.fromarray(values, "L").reduce(factor), dtype=np.uint8)

    mean = inkmask._box_mean(shrink(gray), radius)
    mean_sq = inkmask._box_mean(shrink(as_gray(cv2.LUT(gray, inkmask._SQUARE_LUT))), radius)
    std = np.sqrt(np.maximum(mean_sq - mean * mean, 0.0))
    small = np.clip(mean * (1.0 + 0.2 * (std / 0.5 - 1.0)) * 255.0 + 0.5, 0, cap).astype(np.uint8)
    size = (small.shape[1] * factor, small.shape[0] * factor)
    full = cv2.resize(small, size, interpolation=cv2.INTER_NEAREST)
    return np.ascontiguousarray(full[:height, :width])


def _whole_page_binarize(gray: Gray, scale: float) -> Mask:
    """binarize as it was written before it looked at the ink's box only."""
    window = max(15, int(round(41 * scale)) | 1)
    strong = _whole_page_sauvola(gray, window, STRONG_INK)
    cv2.compare(gray, strong, cv2.CMP_LT, dst=strong)
    _, weak = cv2.threshold(gray, inkmask._WEAK - 1, 1, cv2.THRESH_BINARY_INV)
    grown = strong
    for _ in range(max(1, round(inkmask._GROW_PX * scale))):
        grown = as_gray(cv2.dilate(grown, inkmask._SQUARE3))
        cv2.bitwise_and(grown, weak, dst=grown)
    return grown.view(np.bool_)


def _random_page(rng: np.random.Generator) -> Gray:
    """Noisy paper with a few dark and grey blocks anywhere, edges and corners included."""
    height, width = (int(v) for v in rng.integers(3, 160, 2))
    gray = (rng.integers(200, 256, (height, width))).astype(np.uint8)
    for _ in range(int(rng.integers(0, 6))):
        y, x = int(rng.integers(0, height)), int(rng.integers(0, width))
        h, w = int(rng.integers(1, 25)), int(rng.integers(1, 25))
        gray[y:y + h, x:x + w] = rng.integers(0, 200, (min(h, height - y), min(w, width - x)))
    return gray


@pytest.mark.parametrize("seed", range(4))
def test_binarize_on_the_ink_box_is_the_whole_page_binarisation(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for _ in range(60):
        gray = _random_page(rng)
        scale = float(rng.choice([0.5, 1.0, 1.37, 2.0]))
        assert np.array_equal(binarize(gray, scale), _whole_page_binarize(gray, scale))
    blank = np.full((50, 70), 240, np.uint8)
    assert not binarize(blank).any()


def test_the_smoothing_blur_around_the_ink_is_the_whole_page_blur() -> None:
    rng = np.random.default_rng(7)
    for trial in range(200):
        ink = _random_page(rng) < 100
        page, box = _paper_page(ink)
        assert (box is None) == (not ink.any())
        sigma = float(rng.choice([0.6, 1.5, 2.25, 3.0]))
        assert np.array_equal(blur_ink(page, sigma, box), blur(page, sigma)), trial


def _dark_runs_of_whole_counts(gray: Gray) -> tuple[int, ...]:
    dark = (gray < preprocess._DARK).astype(np.int64)
    height, width = gray.shape
    by_row, by_col = dark.sum(axis=1) / width, dark.sum(axis=0) / height

    def run(fraction: npt.NDArray[np.float64]) -> int:
        count = 0
        for value in fraction[:max(1, len(fraction) // 6)]:
            if value < 0.6:
                break
            count += 1
        return count
    return run(by_row), run(by_row[::-1]), run(by_col), run(by_col[::-1])


def test_dark_border_search_from_the_edges_finds_what_whole_counts_find() -> None:
    rng = np.random.default_rng(11)
    found = 0
    for _ in range(400):
        height, width = (int(v) for v in rng.integers(1, 200, 2))
        gray = rng.integers(100, 256, (height, width)).astype(np.uint8)
        for side in range(4):
            if rng.random() < 0.6:  # a band, dark in some share of its pixels
                depth = int(rng.integers(0, max(1, (height if side < 2 else width) // 3) + 1))
                bands: list[tuple[slice, slice]] = [
                    (slice(0, depth), slice(None)), (slice(height - depth, None), slice(None)),
                    (slice(None), slice(0, depth)), (slice(None), slice(width - depth, None))]
                band = bands[side]
                dark = rng.random(gray[band].shape) < rng.uniform(0.4, 1.0)
                gray[band] = np.where(dark, rng.integers(0, 90), gray[band])
        runs = (preprocess._dark_run(gray, False), preprocess._dark_run(gray[::-1], False),
                preprocess._dark_run(gray, True), preprocess._dark_run(gray[:, ::-1], True))
        assert runs == _dark_runs_of_whole_counts(gray)
        found += any(runs)
    assert found > 50  # the bands were there to be found


def test_skew_search_and_binarisation_given_the_dark_box_match_them_without() -> None:
    rng = np.random.default_rng(5)
    for trial in range(12):
        page = Image.new("L", (420, 300), 235)
        lines = np.asarray(page).copy()
        for row in range(60, 240, 30):  # text-like lines, then the page turned a little
            lines[row:row + 8, 50 + trial * 5:370] = rng.integers(0, 90, (8, 320 - trial * 5))
        turned = Image.fromarray(lines).rotate(float(rng.uniform(-6, 6)), fillcolor=235)
        gray = np.asarray(turned, dtype=np.uint8)
        dark = gray < STRONG_INK
        box = inkmask.bounding_box(dark.view(np.uint8))
        assert box[2] < gray.shape[1] and box[3] < gray.shape[0]  # a box inside the page
        assert preprocess.estimate_skew(dark, 15.0, 1.0, box) == \
            preprocess.estimate_skew(dark, 15.0, 1.0)
        assert np.array_equal(binarize(gray, 1.0, box), binarize(gray, 1.0))
    blank = np.full((40, 40), 240, np.uint8)
    assert preprocess.estimate_skew(blank < STRONG_INK, box=(0, 0, 0, 0)) == 0.0
    assert not binarize(blank, 1.0, (0, 0, 0, 0)).any()


def test_ink_page_is_the_page_of_the_cleaned_whole_page_mask() -> None:
    rng = np.random.default_rng(13)
    removed = 0
    for trial in range(150):
        gray = _random_page(rng)
        for _ in range(int(rng.integers(0, 12))):  # specks, some by the edges of the ink
            y, x = int(rng.integers(0, gray.shape[0])), int(rng.integers(0, gray.shape[1]))
            gray[y:y + int(rng.integers(1, 3)), x:x + int(rng.integers(1, 3))] = 20
        scale = float(rng.choice([0.5, 1.0, 1.37, 2.0]))
        for clean in (True, False):
            mask = binarize(gray, scale)
            if clean:
                cleaned = inkmask.despeckle(mask, scale)
                removed += int(mask.sum() - cleaned.sum())
                mask = cleaned
            expected, _ = _paper_page(mask)
            page, box = inkmask.ink_page(gray, scale, None, clean)
            assert np.array_equal(page, expected), (trial, clean)
            assert box is not None or not mask.any()  # a box around the ink (specks' perhaps)
            if box is not None:
                left, top, width, height = box
                assert mask[top:top + height, left:left + width].sum() == mask.sum()
                assert np.array_equal(blur_ink(page, 1.5 * scale, box), blur(page, 1.5 * scale))
    assert removed > 0  # the despeckling had specks to remove
