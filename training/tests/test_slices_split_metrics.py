import os
import tempfile
import unittest

import numpy as np

from training.dataset import load_dataset, read_labels, selected_images
from training.metrics import aggregate, auc_roc, auprc, choose_threshold, table_metrics
from training.slices import select_slices, spread_indices
from training.split import assert_disjoint_patients, patient_folds, split_indices
from training.synth import write_dataset


def inst(uid, z, n=None, iop=(1, 0, 0, 0, 1, 0)):
    return {"sopInstanceUid": uid, "imagePositionPatient": [0, 0, z], "imageOrientationPatient": list(iop), "instanceNumber": n}


class SliceTest(unittest.TestCase):
    def test_sagittal_central_three_by_position_not_file_order(self):
        sag = (0, 1, 0, 0, 0, -1)  # normal = row x col = (-1, 0, 0): order by descending x
        xs = [5, -3, 1, 9, -7, 3, -1]
        instances = [{"sopInstanceUid": f"u{x}", "imagePositionPatient": [x, 0, 0], "imageOrientationPatient": list(sag),
                      "instanceNumber": i} for i, x in enumerate(xs)]
        self.assertEqual(select_slices([{"role": "t2_sag", "instances": instances}]), {"t2_sag": ["u3", "u1", "u-1"]})
        # even count: start = (n - 3) // 2
        self.assertEqual(select_slices([{"role": "t1_sag", "instances": instances[:4]}])["t1_sag"], ["u9", "u5", "u1"])

    def test_axial_spread_and_small_series(self):
        self.assertEqual(spread_indices(20, 15), [0, 1, 3, 4, 5, 7, 8, 10, 11, 12, 14, 15, 16, 18, 19])
        self.assertEqual(spread_indices(10, 15), list(range(10)))
        ax = [inst(f"a{k}", -5.0 * k) for k in range(25)]
        got = select_slices([{"role": "t2_ax", "instances": ax}])["t2_ax"]
        self.assertEqual(len(got), 15)
        self.assertEqual(got[0], "a24")  # lowest z first (axial normal is +z)
        self.assertEqual(got[-1], "a0")

    def test_ties_broken_by_instance_number_then_uid(self):
        ax = [inst("b", 0, 2), inst("a", 0, 2), inst("c", 0, 1)]
        self.assertEqual(select_slices([{"role": "t2_ax", "instances": ax}])["t2_ax"], ["c", "a", "b"])


class SplitTest(unittest.TestCase):
    def test_no_patient_in_two_splits_every_fold(self):
        rng = np.random.default_rng(0)
        pids = [f"P{int(rng.integers(0, 40))}" for _ in range(200)]  # ~5 studies per patient
        ys = [int(rng.integers(0, 2)) for _ in pids]
        all_test = []
        for f in range(5):
            tr, va, te = split_indices(pids, ys, 5, f, seed=7)
            assert_disjoint_patients(pids, tr, va, te)
            self.assertEqual(len(tr) + len(va) + len(te), 200)
            all_test += list(te)
            tr_p, te_p = {pids[i] for i in tr}, {pids[i] for i in te}
            self.assertFalse(tr_p & te_p)
        self.assertEqual(sorted(all_test), list(range(200)))  # every study tested exactly once

    def test_assert_disjoint_detects_leak(self):
        with self.assertRaises(AssertionError):
            assert_disjoint_patients(["a", "b", "a"], np.array([0]), np.array([2]))

    def test_folds_balanced(self):
        pids = [f"P{i}" for i in range(50)]
        folds = patient_folds(pids, [i % 2 for i in range(50)], 5, 1)
        counts = np.bincount(list(folds.values()))
        self.assertEqual(counts.tolist(), [10] * 5)

    def test_dataset_split_on_synthetic_studies(self):
        with tempfile.TemporaryDirectory() as d:
            write_dataset(d, 10, seed=2)
            rows = read_labels(os.path.join(d, "labels.csv"))
            self.assertEqual(len(selected_images(os.path.join(d, rows[0].case_dir))), 3 + 3 + 15)
            ds = load_dataset(d, 16)
            self.assertEqual(ds.images.shape, (210, 16, 16))
            tr, va, te = split_indices([s.patient_id for s in ds.studies], [s.label for s in ds.studies], 5, 0, 1)
            assert_disjoint_patients([s.patient_id for s in ds.studies], tr, va, te)

    def test_images_csv_gives_per_image_labels(self):
        with tempfile.TemporaryDirectory() as d:
            write_dataset(d, 2, seed=3)
            rows = read_labels(os.path.join(d, "labels.csv"))
            weak = load_dataset(d, 16)
            self.assertEqual(weak.labels.tolist(), [rows[s].label for s in weak.study])
            picked = [im["sop"] for r in rows for im in selected_images(os.path.join(d, r.case_dir))]
            # Label every third image "ldh", the rest "healthy", whatever its study says.
            with open(os.path.join(d, "images.csv"), "w") as f:
                f.write("study_uid,sop_instance_uid,role,level,label\n")
                f.writelines(f"x,{sop},t2_ax,,{'ldh' if k % 3 == 0 else 'healthy'}\n" for k, sop in enumerate(picked))
            strong = load_dataset(d, 16)
            self.assertEqual(strong.labels.tolist(), [1 if k % 3 == 0 else 0 for k in range(len(picked))])
            with open(os.path.join(d, "images.csv"), "w") as f:
                f.write("sop_instance_uid,label\n")
                f.write(f"{picked[0]},ldh\n")
            with self.assertRaisesRegex(ValueError, "no label for image"):
                load_dataset(d, 16)


class MetricsTest(unittest.TestCase):
    def test_auc_and_auprc(self):
        y = np.array([0, 0, 1, 1])
        self.assertEqual(auc_roc(y, np.array([0.1, 0.4, 0.35, 0.8])), 0.75)
        self.assertEqual(auc_roc(y, np.array([0.5, 0.5, 0.5, 0.5])), 0.5)
        self.assertAlmostEqual(auprc(y, np.array([0.1, 0.4, 0.35, 0.8])), (0.5 * 1 + 0.5 * (2 / 3)))

    def test_threshold_metrics(self):
        m = table_metrics(np.array([0, 1, 1, 0]), np.array([0.2, 0.9, 0.4, 0.6]), 0.5)
        self.assertEqual((m["acc"], m["precision"], m["recall"], m["f1"]), (0.5, 0.5, 0.5, 0.5))

    def test_choose_threshold_separates(self):
        t = choose_threshold(np.array([0, 0, 1, 1]), np.array([0.1, 0.2, 0.7, 0.9]))
        self.assertTrue(0.2 < t < 0.7)

    def test_aggregate(self):
        p = np.array([0.1, 0.9, 0.5, 0.2, 0.3, 0.4, 0.8])
        st = np.array([0, 0, 0, 1, 1, 1, 1])
        ids = np.array([0, 1])
        self.assertTrue(np.allclose(aggregate(p, st, ids, "mean"), [0.5, 0.425]))
        self.assertTrue(np.allclose(aggregate(p, st, ids, "max"), [0.9, 0.8]))
        self.assertTrue(np.allclose(aggregate(p, st, ids, "topk-mean"), [0.5, 0.5]))


if __name__ == "__main__":
    unittest.main()


class BalancedBatchTest(unittest.TestCase):
    def test_every_role_class_group_equally_often(self):
        import torch

        from training.train import balanced_batch, balanced_strata

        roles = np.array(["t1_sag"] * 10 + ["t2_ax"] * 90)
        labels = np.array([1] * 8 + [0] * 2 + [1] * 9 + [0] * 81)
        strata = balanced_strata(roles, labels)
        self.assertEqual(sorted(len(g) for g in strata), [2, 8, 9, 81])
        gen = torch.Generator().manual_seed(3)
        picks = np.concatenate([balanced_batch(strata, 32, gen) for _ in range(50)])
        counts = {(r, c): int(((roles[picks] == r) & (labels[picks] == c)).sum()) for r in ("t1_sag", "t2_ax") for c in (0, 1)}
        self.assertEqual(set(counts.values()), {400})  # 1,600 picks over 4 groups
        for r in ("t1_sag", "t2_ax"):  # ldh is half of every role, whatever its base rate
            k = roles[picks] == r
            self.assertEqual(labels[picks][k].mean(), 0.5)


class ProbeTest(unittest.TestCase):
    def test_probe_runs_and_reports_auc_within_each_type(self):
        from training.probe import run, within_type_auc

        got = within_type_auc(np.array([0, 1, 0, 1, 1]), np.array([0.1, 0.9, 0.2, 0.8, 0.5]),
                              np.array(["a", "a", "b", "b", "c"]))
        self.assertEqual(got, {"a": 1.0, "b": 1.0, "c": None})  # one class only → no AUC
        with tempfile.TemporaryDirectory() as d:
            write_dataset(d, 10, seed=4)
            out = run(["--data", d, "--size", "32", "--steps", "2", "--every", "2", "--batch", "4",
                       "--cache-dir", os.path.join(d, "cache"), "--threads", "1"])
        self.assertEqual(out["step"], 2)
        self.assertTrue(set(out["aucWithinType"]) <= {"t1_sag", "t2_sag", "t2_ax"})
