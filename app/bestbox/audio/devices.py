"""Input devices: one host API per OS, names de-duplicated, the configured device or the default.

We never switch microphones silently: a configured device that is missing is an error that names
what is available, not a quiet fallback to another microphone (RealtimeSTT #276).
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any


class MicrophoneUnavailable(RuntimeError):
    """No usable microphone: PortAudio missing, no input device, or the configured one is gone.
    The message is meant for the user as is."""


# Preferred host APIs, best first. On Linux PortAudio usually only has ALSA (PulseAudio and
# PipeWire then appear as the ALSA devices `pulse` / `pipewire`); newer builds have a PulseAudio
# host API, which we prefer when present.
_HOSTAPI_PREFERENCE = {
    "linux": ("PulseAudio", "ALSA", "JACK Audio Connection Kit", "OSS"),
    "win32": ("Windows WASAPI", "MME", "Windows DirectSound", "Windows WDM-KS"),
    "darwin": ("Core Audio",),
}
# ALSA plug-in names that are alternative views of the same hardware; listing them is what makes
# one headset show up eight times (whisper-writer #95).
_ALSA_NOISE = ("sysdefault", "front", "rear", "center_lfe", "side", "surround", "iec958", "spdif",
               "hdmi", "modem", "phoneline", "dmix", "dsnoop", "lavrate", "samplerate", "speexrate",
               "upmix", "vdownmix", "jack", "oss", "usbstream", "a52", "null")
# On Linux these route through the sound server and follow the desktop's choice of microphone.
_LINUX_SERVER_DEVICES = ("pulse", "pipewire", "default")


@dataclass(frozen=True)
class InputDevice:
    index: int
    name: str
    hostapi: str
    channels: int
    default_samplerate: float
    is_default: bool = False

    def label(self) -> str:
        return f"{self.name} ({self.hostapi})"


def import_sounddevice() -> Any:
    """Import sounddevice, turning a missing PortAudio library into MicrophoneUnavailable."""
    try:
        import sounddevice  # noqa: heavy-ish, and fails without PortAudio
    except OSError as e:  # "PortAudio library not found"
        hint = {"linux": "install libportaudio2 (Debian/Ubuntu: sudo apt install libportaudio2)",
                "darwin": "reinstall the app (PortAudio ships with sounddevice on macOS)",
                }.get(sys.platform, "reinstall the app (PortAudio ships with sounddevice on Windows)")
        raise MicrophoneUnavailable(f"Audio input is unavailable: the PortAudio library was not found ({e}); {hint}. "
                                    "Typing still works.") from e
    except ImportError as e:
        raise MicrophoneUnavailable(f"Audio input is unavailable: the sounddevice package is missing ({e}). "
                                    "Typing still works.") from e
    return sounddevice


def _platform_key() -> str:
    return "linux" if sys.platform.startswith("linux") else sys.platform


def _pick_hostapi(hostapis: list[dict], devices: list[dict]) -> int | None:
    """Index of the preferred host API that has at least one input device."""
    has_input = {d["hostapi"] for d in devices if d.get("max_input_channels", 0) > 0}
    prefs = _HOSTAPI_PREFERENCE.get(_platform_key(), ())
    for want in prefs:
        for i, h in enumerate(hostapis):
            if h.get("name") == want and i in has_input:
                return i
    return min(has_input) if has_input else None


def _norm(name: str) -> str:
    return " ".join(name.lower().split())


def _is_alsa_noise(name: str) -> bool:
    n = name.lower().strip()
    return any(n == p or n.startswith(p + ":") or n.startswith(p + " ") for p in _ALSA_NOISE)


def list_input_devices(sd: Any | None = None) -> list[InputDevice]:
    """Input devices of the preferred host API, de-duplicated by name, default first."""
    sd = sd or import_sounddevice()
    try:
        devices = [dict(d) for d in sd.query_devices()]
        hostapis = [dict(h) for h in sd.query_hostapis()]
    except Exception as e:  # PortAudioError when the audio system is broken
        raise MicrophoneUnavailable(f"Audio input is unavailable: {e}. Typing still works.") from e
    for i, d in enumerate(devices):
        d.setdefault("index", i)
    api = _pick_hostapi(hostapis, devices)
    if api is None:
        return []
    api_name = hostapis[api].get("name", "?")
    default_in = hostapis[api].get("default_input_device", -1)
    out: list[InputDevice] = []
    seen: set[str] = set()
    for d in devices:
        if d.get("hostapi") != api or d.get("max_input_channels", 0) <= 0:
            continue
        name = str(d.get("name", "")).strip()
        if api_name == "ALSA" and _is_alsa_noise(name):
            continue
        key = _norm(name)
        if key in seen:
            continue
        seen.add(key)
        out.append(InputDevice(int(d["index"]), name, api_name, int(d["max_input_channels"]),
                               float(d.get("default_samplerate") or 0) or 16000.0,
                               is_default=int(d["index"]) == default_in))
    out.sort(key=lambda x: not x.is_default)
    return out


def default_input_device(devices: list[InputDevice]) -> InputDevice | None:
    """On Linux the sound server's device (`pulse`, then `pipewire`, then ALSA `default`), so the
    desktop's microphone choice applies; elsewhere the host API's default input."""
    if not devices:
        return None
    if _platform_key() == "linux":
        by_name = {d.name.lower(): d for d in devices}
        for n in _LINUX_SERVER_DEVICES:
            if n in by_name:
                return by_name[n]
    for d in devices:
        if d.is_default:
            return d
    return devices[0]


def select_input_device(configured: str = "", sd: Any | None = None) -> InputDevice:
    """The configured device (exact name, then case-insensitive substring) or the default one.
    Raises MicrophoneUnavailable with a readable message; never falls back to another microphone
    when a configured one is missing."""
    devices = list_input_devices(sd)
    if not devices:
        raise MicrophoneUnavailable("No microphone found: the system lists no audio input device. "
                                    "Connect one (or check the sound settings); typing still works.")
    want = configured.strip()
    if want:
        lw = _norm(want)
        exact = [d for d in devices if _norm(d.name) == lw]
        if exact:
            return exact[0]
        sub = [d for d in devices if lw in _norm(d.name)]
        if len(sub) >= 1:
            return sub[0]
        names = ", ".join(f"'{d.name}'" for d in devices)
        raise MicrophoneUnavailable(f"The configured microphone '{want}' (speech.input_device) is not connected. "
                                    f"Available: {names}. Reconnect it or change the setting; "
                                    "BestBox does not switch microphones on its own.")
    d = default_input_device(devices)
    assert d is not None
    return d


def rescan(sd: Any) -> None:
    """PortAudio caches the device list at initialisation; re-initialise to see plugged devices.
    Only call when no stream is open."""
    try:
        sd._terminate()
        sd._initialize()
    except Exception:
        pass
