"""Make the reference outputs that prove the PyTorch port of MusiCNN right.

Runs the ORIGINAL model code (``musicnn/models.py`` from the wheel) in TensorFlow, once, in a
throwaway environment; the project itself never needs TensorFlow::

    python3 -m venv /tmp/tfenv
    /tmp/tfenv/bin/pip install "tensorflow==2.17.*" "tf_keras==2.17.*" librosa
    /tmp/tfenv/bin/pip install --no-deps musicnn==0.1.0
    TF_USE_LEGACY_KERAS=1 /tmp/tfenv/bin/python scripts/make_reference_outputs.py

It synthesises a short fixture clip (drums, a bass line and a chord at 120 BPM, one loud
passage to catch overflow), computes the log-mel as upstream's extractor does but in float32,
cuts it into non-overlapping 187-frame patches and stores audio, mel and every output in
``tests/fixtures/musicnn_reference.npz``.
"""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import librosa  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from musicnn import models  # noqa: E402
from musicnn import configuration as config  # noqa: E402

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "musicnn_reference.npz"
SR, SECONDS, BPM = 16000, 6.2, 120.0


def fixture_audio() -> np.ndarray:
    """Drums + bass + chord at 120 BPM; the last 3 s are driven to full scale."""
    rng = np.random.default_rng(1234)
    t = np.arange(int(SR * SECONDS)) / SR
    audio = np.zeros_like(t)
    beat = 60.0 / BPM
    for i, onset in enumerate(np.arange(0, SECONDS, beat / 2)):
        n = int(onset * SR)
        seg = t[: min(len(t) - n, SR // 4)]
        if i % 2 == 0:  # kick: falling sine
            audio[n : n + len(seg)] += np.sin(2 * np.pi * (50 + 100 * np.exp(-seg * 30)) * seg) * np.exp(-seg * 12)
        if i % 4 == 2:  # snare: noise burst
            audio[n : n + len(seg)] += 0.5 * rng.standard_normal(len(seg)) * np.exp(-seg * 25)
        audio[n : n + len(seg)] += 0.1 * rng.standard_normal(len(seg)) * np.exp(-seg * 80)  # hat
    bass_notes = 55.0 * 2 ** (np.array([0, 0, 3, 5, 7, 5, 3, 0]) / 12)
    bass_freq = bass_notes[(t / beat).astype(int) % len(bass_notes)]
    audio += 0.3 * np.sign(np.sin(2 * np.pi * np.cumsum(bass_freq) / SR))
    audio += 0.1 * sum(np.sin(2 * np.pi * 220 * 2 ** (s / 12) * t) for s in (0, 4, 7))
    audio /= np.abs(audio).max()
    audio[t <= SECONDS - 3] *= 0.3  # quiet start, full-scale tail
    return audio.astype(np.float32)


def main() -> None:
    audio = fixture_audio()
    mel = librosa.feature.melspectrogram(
        y=audio, sr=config.SR, hop_length=config.FFT_HOP, n_fft=config.FFT_SIZE, n_mels=config.N_MELS
    ).T.astype(np.float32)
    mel = np.log10(10000 * mel + 1)
    n_frames = 187
    patches = np.stack([mel[s : s + n_frames] for s in range(0, len(mel) - n_frames + 1, n_frames)])

    tf.compat.v1.disable_eager_execution()  # upstream is TF1 graph code
    outputs = {}
    for model in ("MSD_musicnn", "MTT_musicnn"):
        tf.compat.v1.reset_default_graph()
        with tf.name_scope("model"):
            x = tf.compat.v1.placeholder(tf.float32, [None, n_frames, config.N_MELS])
            is_training = tf.compat.v1.placeholder(tf.bool)
            y, _, _, _, _, _, mean_pool, max_pool, penultimate = models.define_model(x, is_training, model, 50)
            tags = tf.nn.sigmoid(y)
        with tf.compat.v1.Session() as sess:
            sess.run(tf.compat.v1.global_variables_initializer())
            tf.compat.v1.train.Saver().restore(sess, os.path.join(os.path.dirname(models.__file__), model) + "/")
            values = sess.run([mean_pool, max_pool, penultimate, tags], feed_dict={x: patches, is_training: False})
        for name, value in zip(("mean_pool", "max_pool", "penultimate", "tags"), values):
            outputs[f"{model}/{name}"] = value.astype(np.float32)

    OUT.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT, audio=audio, mel=mel, **outputs)
    print(f"wrote {OUT}: {len(patches)} patches, tags[0][:3] = {outputs['MSD_musicnn/tags'][0][:3]}")


if __name__ == "__main__":
    main()
