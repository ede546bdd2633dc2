"""Capture path without a sound card: resampling, devices, the recorder fed by a file, the VAD."""
from __future__ import annotations

import asyncio
import time

import numpy as np
import pytest

from bestbox.audio import devices as dev
from bestbox.audio.devices import MicrophoneUnavailable, list_input_devices, select_input_device
from bestbox.audio.filesource import FileSoundDevice
from bestbox.audio.recorder import Recorder
from bestbox.audio.resample import Resampler, dbfs, resample
from bestbox.audio.vad import EndpointDetector, find_speech

from speech.conftest import read_pcm


def tone(freq, seconds, rate, amp=0.5):
    t = np.arange(int(seconds * rate)) / rate
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


@pytest.mark.parametrize("rate", [8000, 22050, 44100, 48000])
def test_resampler_streaming_equals_whole_and_keeps_the_tone(rate):
    x = tone(440, 1.0, rate)
    whole = resample(x, rate)
    assert len(whole) == 16000
    r = Resampler(rate)
    blocks = [r.process(x[i:i + rate // 50]) for i in range(0, len(x), rate // 50)] + [r.flush()]
    streamed = np.concatenate(blocks)[:16000]
    assert np.allclose(whole, streamed, atol=1e-5)
    ref = tone(440, 1.0, 16000)
    assert np.abs(whole[200:-200] - ref[200:-200]).max() < 1e-3


def test_resampler_filters_what_16k_cannot_hold():
    # 9 kHz is above 16 kHz's Nyquist: it must be attenuated, not folded back as a 7 kHz tone
    assert dbfs(resample(tone(9000, 1.0, 48000, 1.0), 48000)[200:-200]) < -15


class FakeSD:
    """Device tables as PortAudio reports them."""

    def __init__(self, devices, hostapis):
        self._d, self._h = devices, hostapis

    def query_devices(self):
        return self._d

    def query_hostapis(self):
        return self._h


def _d(i, name, api, ins=2, rate=48000.0):
    return {"index": i, "name": name, "hostapi": api, "max_input_channels": ins, "max_output_channels": 0,
            "default_samplerate": rate}


def test_devices_one_hostapi_deduplicated_pulse_preferred(monkeypatch):
    monkeypatch.setattr(dev, "_platform_key", lambda: "linux")
    sd = FakeSD(
        [_d(0, "HDA Intel PCH: ALC892 Analog (hw:0,0)", 0), _d(1, "sysdefault", 0), _d(2, "front", 0),
         _d(3, "surround40", 0), _d(4, "pulse", 0, 32, 44100.0), _d(5, "default", 0, 32, 44100.0),
         _d(6, "Jabra Headset", 1), _d(7, "pulse", 0, 32, 44100.0), _d(8, "HDMI out", 0, 0)],
        [{"name": "ALSA", "default_input_device": 5}, {"name": "JACK Audio Connection Kit", "default_input_device": 6}])
    names = [d.name for d in list_input_devices(sd)]
    assert names.count("pulse") == 1
    assert "sysdefault" not in names and "front" not in names and "HDMI out" not in names
    assert "Jabra Headset" not in names  # one host API only
    assert select_input_device("", sd).name == "pulse"
    assert select_input_device("alc892", sd).name.startswith("HDA Intel PCH")


def test_configured_device_missing_is_an_error_not_a_silent_switch():
    sd = FakeSD([_d(0, "Built-in Microphone", 0)], [{"name": "Core Audio", "default_input_device": 0}])
    with pytest.raises(MicrophoneUnavailable) as e:
        select_input_device("Blue Yeti", sd)
    msg = str(e.value)
    assert "Blue Yeti" in msg and "Built-in Microphone" in msg and "not connected" in msg


def test_no_input_device_and_no_portaudio_messages(monkeypatch):
    sd = FakeSD([{"index": 0, "name": "Speakers", "hostapi": 0, "max_input_channels": 0,
                  "max_output_channels": 2, "default_samplerate": 48000.0}],
                [{"name": "ALSA", "default_input_device": -1}])
    with pytest.raises(MicrophoneUnavailable, match="No microphone found"):
        select_input_device("", sd)

    import builtins
    real_import = builtins.__import__

    def no_portaudio(name, *a, **kw):
        if name == "sounddevice":
            raise OSError("PortAudio library not found")
        return real_import(name, *a, **kw)

    monkeypatch.setattr(builtins, "__import__", no_portaudio)
    with pytest.raises(MicrophoneUnavailable, match="PortAudio library was not found.*libportaudio2"):
        dev.import_sounddevice()


def _speech_like(seconds_on=1.2, rate=44100):
    """Syllable-like bursts: a 200 Hz buzz gated at 4 Hz, then silence."""
    t = np.arange(int(seconds_on * rate)) / rate
    gate = (np.sin(2 * np.pi * 4 * t) > -0.3).astype(np.float32)
    return (0.3 * np.sin(2 * np.pi * 200 * t) * gate).astype(np.float32)


def test_recorder_resamples_and_levels_from_a_44k_device():
    sig = np.concatenate([np.zeros(22050, np.float32), _speech_like()])
    fake = FileSoundDevice(sig, 44100, speed=0, tail_silence_s=0.5)
    levels = []

    async def go():
        rec = Recorder(sounddevice=fake, on_level=levels.append, max_record_s=10)
        audio = await rec.record()
        return rec, audio

    rec, audio = asyncio.run(go())
    assert rec.samplerate == 44100 and rec.device.name == "file"
    assert abs(len(audio) / 16000 - (len(sig) / 44100 + 0.5)) < 0.05
    assert min(levels) < -90 and max(levels) > -20
    assert rec.end_reason == "device_error"  # the file ran out: the stream finished on its own
    assert "Kept" in rec.error


def test_recorder_device_disappears_mid_recording_keeps_audio():
    fake = FileSoundDevice(_speech_like(3.0, 48000), 48000, speed=4.0, fail_after_s=1.0)

    async def go():
        rec = Recorder(sounddevice=fake, max_record_s=10)
        audio = await asyncio.wait_for(rec.record(), 10)
        return rec, audio

    rec, audio = asyncio.run(go())
    assert rec.end_reason == "device_error"
    assert 0.9 < len(audio) / 16000 < 1.1
    assert "disconnected" in rec.error or "stopped" in rec.error


def test_recorder_max_length_cancel_and_drops():
    fake = FileSoundDevice(_speech_like(5.0, 16000), 16000, speed=0)

    async def go_max():
        rec = Recorder(sounddevice=fake, max_record_s=1.0)
        return rec, await rec.record()

    rec, audio = asyncio.run(go_max())
    assert rec.end_reason == "max_length" and 1.0 <= len(audio) / 16000 < 1.2

    async def go_cancel():
        rec = Recorder(sounddevice=FileSoundDevice(_speech_like(5.0, 16000), 16000, speed=1.0))
        async for b in rec.blocks():
            if b.start_sample > 8000:
                rec.cancel()
        return rec

    rec = asyncio.run(go_cancel())
    assert rec.end_reason == "cancelled" and rec.audio().size == 0

    async def go_stalled():
        # a consumer that blocks the loop: the callback thread drops blocks instead of waiting
        rec = Recorder(sounddevice=FileSoundDevice(_speech_like(2.0, 16000), 16000, speed=0,
                                                   tail_silence_s=0), max_queue_blocks=5)
        await rec.start()
        time.sleep(0.5)
        await rec.record()
        return rec

    rec = asyncio.run(go_stalled())
    assert rec.dropped_blocks > 0


def test_vad_hysteresis_timer_starts_after_speech_and_reports_last_voiced_sample():
    rate = 16000
    lead = np.zeros(rate, np.float32)  # a second of silence first: must not end the turn
    sig = np.concatenate([lead, resample(_speech_like(1.0), 44100), np.zeros(2 * rate, np.float32)])
    det = EndpointDetector(silence_ms=700)
    events = []
    for i in range(0, len(sig), 320):
        events += [(e.kind, e.at_sample, i) for e in det.feed(sig[i:i + 320])]
    kinds = [k for k, _, _ in events]
    assert kinds[0] == "speech_started" and kinds[-1] == "ended"
    start = events[0][1]
    assert abs(start / rate - 1.0) < 0.1
    last = det.last_voiced_sample
    assert abs(last / rate - 2.0) < 0.15
    ended_fed = events[-1][2] + 320
    assert 0.65 <= (ended_fed - last) / rate <= 0.76  # ends within ~0.7 s of silence


def test_vad_hold_mode_never_ends_and_pauses_resume():
    rate = 16000
    burst = resample(_speech_like(0.6), 44100)
    sig = np.concatenate([burst, np.zeros(rate, np.float32), burst, np.zeros(3 * rate, np.float32)])
    hold = EndpointDetector(mode="hold", silence_ms=700)
    kinds = [e.kind for e in hold.feed(sig)]
    assert "ended" not in kinds and kinds.count("silence_started") == 2 and "speech_resumed" in kinds
    auto = EndpointDetector(mode="auto", silence_ms=1500)  # a 1 s thinking pause is not the end
    kinds = [e.kind for e in auto.feed(sig)]
    assert kinds.index("speech_resumed") < kinds.index("ended")


def test_vad_noise_floor_adapts_to_steady_noise():
    rng = np.random.default_rng(0)
    noise = (0.05 * rng.standard_normal(16000 * 3)).astype(np.float32)  # about -26 dBFS, steady
    det = EndpointDetector()
    assert not any(e.kind == "speech_started" for e in det.feed(noise))


def test_find_speech_on_espeak(espeak_wavs):
    from bestbox.audio.wavfile import read_audio

    a = read_audio(espeak_wavs["vendors"]).audio
    first, last = find_speech(a)
    raw, rate = read_pcm(espeak_wavs["vendors"].with_name("vendors-raw.wav"))
    assert abs(first / 16000 - 0.4) < 0.15
    assert abs(last / 16000 - (0.4 + len(raw) / rate)) < 0.35
