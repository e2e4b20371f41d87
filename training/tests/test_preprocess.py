import os
import tempfile
import unittest

import numpy as np
import torch
import torch.nn.functional as F

from training.contract import input_section
from training.preprocess import (pad_square, percentile_linear, preprocess_dicom, preprocess_pixels, resize_square,
                                 roi_box, to_unit_image, triangle_weights, window_percentile)
from training.synth import write_image


class PreprocessTest(unittest.TestCase):
    def test_percentile_matches_numpy_linear(self):
        rng = np.random.default_rng(0)
        for n in (1, 2, 7, 1000):
            v = rng.normal(size=n) * 100
            for p in (0.0, 0.5, 50.0, 99.5, 100.0):
                self.assertAlmostEqual(percentile_linear(v, p), float(np.percentile(v, p)), places=9)

    def test_triangle_resize_matches_torch_antialias(self):
        rng = np.random.default_rng(1)
        for side, size in ((320, 128), (257, 128), (96, 32), (48, 128), (128, 128)):
            x = rng.uniform(0, 1, (side, side))
            ours = resize_square(x, size)
            t = torch.from_numpy(x)[None, None]
            ref = F.interpolate(t, size=(size, size), mode="bilinear", align_corners=False, antialias=True)[0, 0].numpy()
            if side > size:  # torch's antialias kernel is PIL's triangle filter when shrinking
                self.assertLess(np.abs(ours - ref).max(), 1e-5, (side, size))
            self.assertEqual(ours.shape, (size, size))

    def test_weights_rows_sum_to_one(self):
        for a, b in ((320, 128), (48, 128), (17, 5)):
            w = triangle_weights(a, b)
            self.assertTrue(np.allclose(w.sum(1), 1.0))

    def test_pad_square_centres(self):
        x = np.ones((3, 6))
        p = pad_square(x)
        self.assertEqual(p.shape, (6, 6))
        self.assertEqual(p[:, 0].tolist(), [0, 1, 1, 1, 0, 0])  # top = (6-3)//2 = 1

    def test_window_and_normalise_range_and_channels(self):
        rng = np.random.default_rng(2)
        x = rng.integers(0, 4000, (64, 80)).astype(np.uint16)
        out = preprocess_pixels(x, role="t2_ax", pixel_spacing=[1.0, 1.0])
        self.assertEqual(out.shape, (3, 128, 128))
        self.assertEqual(out.dtype, np.float32)
        self.assertTrue(np.array_equal(out[0], out[1]) and np.array_equal(out[1], out[2]))
        self.assertGreaterEqual(out.min(), -2.0 - 1e-6)
        self.assertLessEqual(out.max(), 2.0 + 1e-6)

    def test_modality_lut_is_applied_before_windowing_and_is_affine_invariant(self):
        rng = np.random.default_rng(3)
        x = rng.integers(0, 1000, (40, 40)).astype(np.int16)
        a = to_unit_image(x, 32, role="t2_ax", pixel_spacing=[5.0, 5.0])
        b = to_unit_image(x, 32, rescale_slope=-2.0, rescale_intercept=50.0, role="t2_ax", pixel_spacing=[5.0, 5.0])
        self.assertLess(np.abs((1 - a) - b).max(), 1e-9)  # negative slope inverts the window

    def test_constant_image_is_all_zero_after_window(self):
        self.assertEqual(float(to_unit_image(np.full((10, 10), 7, np.uint16), 16, role="t2_sag", pixel_spacing=[9, 9]).max()), 0.0)

    def test_dicom_roundtrip_monochrome1_and_signed(self):
        rng = np.random.default_rng(4)
        pix = rng.integers(-500, 500, (30, 50)).astype(np.int16)
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "a.dcm")
            write_image(p, pix, study_uid="2.25.1", series_uid="2.25.2", sop_uid="2.25.3", patient_id="X",
                        series_desc="AX T2", echo_time=100, iop=[1, 0, 0, 0, 1, 0], ipp=[0, 0, 0], instance_number=1,
                        slope=2.0, intercept=-100.0, monochrome1=True, pixel_spacing=[2.5, 3.0])
            got = preprocess_dicom(p, input_section(64), role="t2_ax")
        ref = preprocess_pixels(pix, rescale_slope=2.0, rescale_intercept=-100.0, monochrome1=True, role="t2_ax",
                                pixel_spacing=[2.5, 3.0], contract=input_section(64))
        self.assertTrue(np.array_equal(got, ref))
        self.assertEqual(got.shape, (3, 64, 64))

    def test_roi_box_in_millimetres(self):
        roi = {"centre": [0.58, 0.5], "sideMm": 120.0}
        # 320×320 at 0.6 mm: 200 px square; top = ⌊0.58·320 − 100 + 0.5⌋ = 86, left = 60.
        self.assertEqual(roi_box(320, 320, [0.6, 0.6], roi), (86, 60, 200, 200))
        # Non-square pixels: height from the row spacing, width from the column spacing.
        self.assertEqual(roi_box(100, 100, [1.0, 2.0], roi), (-2, 20, 120, 60))
        with self.assertRaises(ValueError):
            roi_box(100, 100, [0.0, 1.0], roi)
        with self.assertRaises(ValueError):
            roi_box(100, 100, [1.0, 1.0], {"centre": [3.0, 0.5], "sideMm": 10.0})

    def test_roi_inside_the_image_is_cut_then_windowed(self):
        rng = np.random.default_rng(6)
        x = rng.integers(0, 4000, (320, 320)).astype(np.uint16)
        x[:40, :] = 60000  # outside the axial ROI: must not set the window
        unit = to_unit_image(x, 200, role="t2_ax", pixel_spacing=[0.6, 0.6])
        ref = window_percentile(x[86:286, 60:260].astype(np.float64), 0.5, 99.5)
        self.assertTrue(np.array_equal(unit, ref))  # 200 px ROI at S = 200: no resize

    def test_roi_reaching_outside_the_image_is_zero_there(self):
        rng = np.random.default_rng(7)
        x = rng.integers(100, 4000, (40, 48)).astype(np.uint16)
        unit = to_unit_image(x, 120, role="t2_ax", pixel_spacing=[1.0, 1.0])  # 120 mm ROI on a 40×48 mm image
        top, left, h, w = roi_box(40, 48, [1.0, 1.0], input_section(120)["roi"]["t2_ax"])
        self.assertEqual((h, w), (120, 120))
        self.assertEqual(float(unit[: -top, :].max()), 0.0)
        inside = unit[-top:-top + 40, -left:-left + 48]
        self.assertTrue(np.array_equal(inside, window_percentile(x.astype(np.float64), 0.5, 99.5)))

    def test_contract_without_roi_is_v1_whole_image(self):
        rng = np.random.default_rng(8)
        x = rng.integers(0, 4000, (30, 50)).astype(np.uint16)
        v1 = {k: v for k, v in input_section(40).items() if k != "roi"}
        v1["contract"] = "ldh-input-v1"
        ref = resize_square(pad_square(window_percentile(x.astype(np.float64), 0.5, 99.5)), 40)
        self.assertTrue(np.array_equal(to_unit_image(x, 40, contract=v1), ref))  # no role / spacing needed

    def test_roi_needs_role_and_pixel_spacing(self):
        x = np.ones((20, 20), np.uint16)
        with self.assertRaisesRegex(ValueError, "series role"):
            to_unit_image(x, 16, pixel_spacing=[1, 1])
        with self.assertRaisesRegex(ValueError, "PixelSpacing"):
            to_unit_image(x, 16, role="t2_ax")


if __name__ == "__main__":
    unittest.main()
