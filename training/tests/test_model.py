import unittest

import torch
import torchvision

from training.model import VARIANTS, Bottleneck, LdhNet, SEChannelAttention, SpatialAttention, build_model, count_parameters

HEAD = 2048 * 256 + 256 + 256 * 2 + 2  # MLP head parameters


class ModelTest(unittest.TestCase):
    def test_backbone_matches_torchvision_resnext50_32x4d(self):
        tv = torchvision.models.resnext50_32x4d()
        tv_backbone = sum(p.numel() for n, p in tv.named_parameters() if not n.startswith("fc."))
        self.assertEqual(count_parameters(build_model("plain")), tv_backbone + HEAD)
        self.assertEqual(count_parameters(build_model("plain")), 23_504_962)

    def test_parameter_counts_of_variants(self):
        # SE on 64 ch (64*4+4 + 4*64+64) and on 2048 ch (2048*128+128 + 128*2048+2048).
        se = (64 * 4 + 4 + 4 * 64 + 64) + (2048 * 128 + 128 + 128 * 2048 + 2048)
        spatial = 2 * (49 + 1 + 49)  # two modules, each conv_avg (49+bias) + conv_max (49)
        self.assertEqual(count_parameters(build_model("se")), 23_504_962 + se)
        self.assertEqual(count_parameters(build_model("dual")), 23_504_962 + se + spatial)
        self.assertEqual(count_parameters(build_model("dual")), 24_032_204)

    def test_block_structure_3_4_6_3(self):
        m = build_model("dual")
        self.assertEqual([len(s) for s in m.stages], [3, 4, 6, 3])
        for stage in m.stages:
            kinds = [not isinstance(b.shortcut, torch.nn.Identity) for b in stage]
            self.assertEqual(kinds[0], True)  # conv block first
            self.assertFalse(any(kinds[1:]))  # then identity blocks 2,3,5,3
        self.assertEqual(m.stem[0].kernel_size, (7, 7))
        self.assertEqual(m.stem[0].stride, (2, 2))
        self.assertEqual(m.stem[0].out_channels, 64)
        conv2 = m.stages[0][0].conv2
        self.assertEqual((conv2.groups, conv2.out_channels), (32, 128))  # 32x4d

    def test_output_shapes_all_variants(self):
        for v in VARIANTS:
            m = build_model(v).eval()
            with torch.no_grad():
                for n, s in ((1, 64), (3, 128)):
                    self.assertEqual(tuple(m(torch.randn(n, 3, s, s)).shape), (n, 2))

    def test_se_has_no_max_branch_and_scales_channels(self):
        se = SEChannelAttention(64)
        self.assertEqual(se.fc1.out_features, 4)
        x = torch.randn(2, 64, 5, 5)
        y = se(x)
        ratio = y / x
        # One scale per (sample, channel), in (0, 1).
        self.assertTrue(torch.allclose(ratio, ratio[:, :, :1, :1].expand_as(ratio), atol=1e-5))
        self.assertTrue(bool(((ratio > 0) & (ratio < 1)).all()))

    def test_spatial_attention_is_one_map_over_channels(self):
        sa = SpatialAttention(7)
        self.assertEqual(sa.conv_avg.kernel_size, (7, 7))
        x = torch.rand(1, 8, 9, 9) + 0.1
        ratio = sa(x) / x
        self.assertTrue(torch.allclose(ratio, ratio[:, :1].expand_as(ratio), atol=1e-6))

    def test_unknown_variant(self):
        with self.assertRaises(ValueError):
            LdhNet("cbam")


if __name__ == "__main__":
    unittest.main()
