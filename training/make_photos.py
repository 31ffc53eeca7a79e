"""Assemble the content photographs for training fast style-transfer networks.

Johnson et al. (2016) train on many natural photographs. Ours come, offline and with their
credits, from pinned Debian bookworm packages: each .deb is fetched once with
`apt-get download PKG=VERSION` into a cache folder, unpacked with `dpkg-deb -x`, and the
files chosen below by looking at them (photographs only: no drawings, renders, abstract
wallpapers, screenshots, large text, nor private people as the main subject) are written to
build/photos/ as RGB JPEGs whose short side is 512 px. training/PHOTOS.md credits each one.

    python training/make_photos.py [--debs DIR] [--out DIR]   # what `make photos` runs
    python training/make_photos.py --check                    # build/photos vs PHOTOS.md
"""

from __future__ import annotations

import argparse
import fnmatch
import io
import json
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps

ROOT = Path(__file__).resolve().parent.parent
CREDITS_MD = ROOT / "training" / "PHOTOS.md"
SHORT_SIDE = 512  # the training crops are 256 px; 512 leaves room for random crops
MIN_SHORT_SIDE = 256  # smaller photos would have to be upscaled: left out
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")

# Exact versions, so that the credits below stay true for the files they name.
PACKAGES = {
    "gcompris-qt-data": "3.1-2",
    "tuxpaint-data": "1:0.9.28-sdl2-1",
    "mate-backgrounds": "1.26.0-1",
    "lomiri-wallpapers-16.04": "20.04.0-2",
    "lxqt-themes": "1.2.0-1",
    "scribus-template": "1.2.4.1-6",
    "palapeli-data": "4:22.12.3-1",
    "sddm-theme-maldives": "0.19.0-5",
    "plasma-workspace-wallpapers": "4:5.27.5-2",
}

# The photographs kept, by looking at contact sheets of every image of at least 256 px
# (fnmatch patterns; a GCompris file is "<rcc bundle>:<path inside it>"). Not kept, after
# looking: GCompris's lang words (drawings), paintings, babyshapes and Van Gogh "details"
# (paintings), planets (renders on transparent ground), letter and number blocks (text),
# textures; Tux Paint's other starters (line art, maps, frames); MATE's abstract and desktop
# wallpapers; LXQt's logo and origami wallpapers, and three photos its License file credits
# to no one; Plasma's renders; Palapeli's background textures; the Maldives login
# screenshot; Scribus's screenshots.
RCC = "usr/share/gcompris-qt/rcc/"
ACT = "/gcompris/src/activities/"
_WALLPAPERS = (
    "BytheWater ColdRipple ColorfulCups DarkestHour EveningGlow FallenLeaf Grey Kite "
    "OneStandsOut Path summer_1am"
).split()
KEEP = {
    "gcompris-qt-data": [
        # Animals, monuments, farm, sea floor: all photographs.
        f"{RCC}erase.rcc:{ACT}erase/resource/*.webp",
        f"{RCC}explore_monuments.rcc:{ACT}explore_monuments/resource/*/*.webp",
        f"{RCC}explore_world_animals.rcc:{ACT}explore_world_animals/resource/animals/*.webp",
        f"{RCC}explore_farm_animals.rcc:{ACT}explore_farm_animals/resource/animals/*.webp",
        f"{RCC}explore_world_music.rcc:{ACT}explore_world_music/resource/music/*.webp",
        f"{RCC}clickgame.rcc:{ACT}clickgame/resource/sea?.webp",
        # The photographs behind "details" (the Van Gogh paintings are not photos).
        *(
            f"{RCC}details.rcc:{ACT}details/resource/image/{name}_background.webp"
            for name in (
                "Chenonceau EgeskovSlotSpejling EilanDonanCastle FanoeWindmill GizahPyramids "
                "Louvre_2007_02_24_c NDP Nagoya Neuschwanstein OperaSidney TajMahal "
                "TourEiffel TowerBridgeLondon"
            ).split()
        ),
        # The few categorization photos of 256 px or more (most are 320x240 or smaller).
        *(
            f"{RCC}categorization.rcc:{ACT}categorization/resource/images/{name}.webp"
            for name in (
                "monuments/victoriaMemorial fishes/fish25 others/baseball others/spoons "
                "others/volleyball others/weighingMachine renewable/windmill6 "
                "tools/nailCutter tools/spray"
            ).split()
        ),
    ],
    "tuxpaint-data": [
        "usr/share/tuxpaint/templates/*.jpg",
        # The photographic layers of two starters (their -front layers are drawings).
        "usr/share/tuxpaint/starters/reef-back.png",
        "usr/share/tuxpaint/starters/skyline-sf-dusk-back.jpeg",
    ],
    "mate-backgrounds": ["usr/share/backgrounds/mate/nature/*.jpg"],
    "lomiri-wallpapers-16.04": ["usr/share/backgrounds/*.jpg"],
    "lxqt-themes": [
        f"usr/share/lxqt/wallpapers/{name}"
        for name in (
            "after-the-rain.jpg appleflower.png beam.png butterfly.png drop.png flowers.png "
            "fog.jpg this-is-not-windows.jpg"
        ).split()
    ],
    "scribus-template": [
        "usr/share/scribus/templates/br2/*.jpg",
        "usr/share/scribus/templates/cal2/moon.jpg",
        "usr/share/scribus/templates/menu2/pizza.jpg",
        "usr/share/scribus/templates/nl1-bw/kites-bw.png",
    ],
    "palapeli-data": ["usr/share/palapeli/collection/*.jpg"],
    "sddm-theme-maldives": ["usr/share/sddm/themes/maldives/background.jpg"],
    "plasma-workspace-wallpapers": [
        f"usr/share/wallpapers/{name}/contents/images/2560x1600.jpg" for name in _WALLPAPERS
    ],
}

# Files the patterns above take in that are left out anyway, with the reason.
EXCLUDE = {
    f"*{ACT}explore_world_music/resource/music/australia.webp": "a portrait of a performer",
    f"*{ACT}explore_world_music/resource/music/ireland.webp": "musicians as the main subject",
    f"*{ACT}explore_world_music/resource/music/italy.webp": "singers as the main subject",
    f"*{ACT}explore_world_music/resource/music/mexico.webp": "close-up of musicians' faces",
    "usr/share/backgrounds/analogpattern_by_Peter_Nerlich.jpg": "abstract, not a photo",
    "usr/share/backgrounds/umang_by_Abhishek_Mudgal.jpg": "abstract gradient",
    # The course's own content photos (images/CREDITS.md) come from GCompris: held out, so
    # that every picture the course shows of a network is of a photo it never saw.
    **{f"*{ACT}explore_monuments/resource/*/{name}.webp": "a course photo (images/content)"
       for name in ("montStMichel", "colosseum", "pontduGard")},
    **{f"*{ACT}explore_world_animals/resource/animals/{name}.webp":
       "a course photo (images/content)" for name in ("jaguar", "scarlet_macaw")},
}

# Credits that no machine-readable file gives; each names where it was read.
CREDITS = {
    # tuxpaint-data: /usr/share/doc/tuxpaint-data/AUTHORS.txt.gz, "Starter Images".
    "usr/share/tuxpaint/starters/reef-back.png": (
        "Thomas K. Gibson, NOAA (Florida Keys National Marine Sanctuary)",
        "Public domain",
        "http://www.photolib.noaa.gov/ (image reef2583)",
    ),
    "usr/share/tuxpaint/starters/skyline-sf-dusk-back.jpeg": (
        "Rich Bourgerie, NOAA",
        "Public domain",
        "http://www.photolib.noaa.gov/ (image line1989)",
    ),
    # lxqt-themes: usr/share/lxqt/wallpapers/License credits these eight to stefonarch,
    # CC-BY-SA 3.0 (its other wallpapers have no author named and are left out).
    **{
        pattern: ("stefonarch (standreas@riseup.net)", "CC-BY-SA-3.0", "")
        for pattern in KEEP["lxqt-themes"]
    },
    # gcompris-qt-data: its explore_monuments README credits this file as "audaPalatina".
    f"*{ACT}explore_monuments/resource/germany/aulaPalatina.webp": (
        "Berthold Werner",
        "Public domain",
        "https://commons.wikimedia.org/wiki/File:Trier_Konstantinbasilika_BW_1.JPG",
    ),
    # scribus-template: /usr/share/doc/scribus-template/copyright (not machine-readable)
    # lists br2, cal2, menu2 and nl1-bw among Riku Leino's public-domain templates.
    "usr/share/scribus/templates/*": ("Riku Leino", "Public domain", ""),
}


@dataclass
class Photo:
    """One kept file: where it was found, how to read it, and whom to credit."""

    package: str
    path: str  # inside the package (a GCompris one is "<rcc>:<path inside the bundle>")
    data: bytes
    author: str = ""
    licence: str = ""
    url: str = ""


# --- fetching and unpacking -------------------------------------------------------------


def deb_name(package: str, version: str) -> str:
    """The file name apt-get download gives (an epoch's ':' is written '%3a')."""
    return f"{package}_{version.replace(':', '%3a')}_all.deb"


def fetch(debs: Path) -> None:
    """Download into `debs` the pinned packages not there yet; exit with one line if apt fails."""
    debs.mkdir(parents=True, exist_ok=True)
    for package, version in PACKAGES.items():
        if (debs / deb_name(package, version)).exists():
            continue
        spec = f"{package}={version}"
        run = subprocess.run(
            ["apt-get", "download", spec], cwd=debs, capture_output=True, text=True
        )
        if run.returncode or not (debs / deb_name(package, version)).exists():
            reason = (run.stderr.strip().splitlines() or ["no .deb written"])[-1]
            sys.exit(
                f"make photos needs Debian's package archive: apt-get download {spec} "
                f"failed ({reason})"
            )


def unpack(deb: Path, into: Path) -> Path:
    """Extract a .deb's files (not its maintainer scripts) under `into`."""
    into.mkdir(parents=True)
    subprocess.run(["dpkg-deb", "-x", str(deb), str(into)], check=True)
    return into


# --- Qt resource bundles (.rcc) ---------------------------------------------------------


def read_rcc(blob: bytes) -> dict[str, bytes]:
    """Every file of a Qt .rcc bundle, by path, uncompressed.

    GCompris ships its data as rcc bundles: a 'qres' header giving the offsets of a tree of
    fixed-size entries, a name table (UTF-16) and a data table; entries flagged 1 are
    qCompress'ed (4-byte size, then zlib), flagged 4 zstd-compressed, flagged 2 directories.
    """
    magic, version, tree, data, names = struct.unpack(">4sIIII", blob[:20])
    if magic != b"qres":
        raise ValueError("not a Qt resource bundle")
    entry_size = 22 if version >= 2 else 14  # version 2 added a last-modified time
    files = {}

    def name(offset: int) -> str:
        (length,) = struct.unpack(">H", blob[names + offset : names + offset + 2])
        start = names + offset + 6  # after the length and a hash
        return blob[start : start + 2 * length].decode("utf-16-be")

    def walk(index: int, parent: str) -> None:
        at = tree + index * entry_size
        name_offset, flags = struct.unpack(">IH", blob[at : at + 6])
        path = f"{parent}/{name(name_offset)}" if index else ""
        if flags & 2:
            count, first = struct.unpack(">II", blob[at + 6 : at + 14])
            for child in range(first, first + count):
                walk(child, path)
            return
        (offset,) = struct.unpack(">I", blob[at + 10 : at + 14])
        (size,) = struct.unpack(">I", blob[data + offset : data + offset + 4])
        files[path] = uncompress(blob[data + offset + 4 : data + offset + 4 + size], flags, path)

    walk(0, "")
    return files


def uncompress(payload: bytes, flags: int, path: str) -> bytes:
    """An rcc entry's bytes: zlib after a 4-byte size (flag 1), zstd (flag 4), or as stored."""
    if flags & 1:
        return zlib.decompress(payload[4:])
    if flags & 4:
        try:
            import zstandard
        except ImportError:
            sys.exit(
                f"{path} is zstd-compressed and no zstd module is available "
                "(pip install zstandard)"
            )
        return zstandard.ZstdDecompressor().decompress(payload)
    return payload


def gcompris_files(tree: Path) -> dict[str, bytes]:
    """Every file of every GCompris bundle, as "<rcc path>:<path inside>"."""
    files = {}
    for rcc in sorted((tree / RCC).glob("*.rcc")):
        prefix = f"{RCC}{rcc.name}:"
        files.update({prefix + p: b for p, b in read_rcc(rcc.read_bytes()).items()})
    return files


# --- credits ----------------------------------------------------------------------------


def norm_licence(text: str) -> str:
    """One spelling per licence ("CC-BY-SA 4.0", "Public Domain", "GPLv2+" and the like)."""
    text = " ".join(text.split())
    if re.fullmatch(r"(?i)public[ -]domain|pd", text):
        return "Public domain"
    text = re.sub(r"^(CC[-A-Za-z]*)[ -](\d\.\d)$", r"\1-\2", text)
    text = re.sub(r"^(L?GPL)v(\d)", r"\1-\2", text)
    return {"FDL": "GFDL", "GNU-FDL": "GFDL", "CC0": "CC0-1.0"}.get(text, text)


def stanzas(text: str) -> list[dict[str, object]]:
    """The 'Key: value' paragraphs of a DEP-5 file or a GCompris README.

    GCompris READMEs sometimes list files without a 'Files:' key; any bare line that looks
    like a file name counts as one. Other bare lines continue the previous value.
    """
    result = []
    for block in re.split(r"\n\s*\n", text):
        fields: dict[str, object] = {"Files": []}
        key = None
        for line in block.splitlines():
            match = re.match(r"^([A-Za-z-]+):\s*(.*)$", line)
            if match:
                key, value = match[1].capitalize(), match[2].strip()
                if key == "Files":
                    fields["Files"] += value.split()
                else:
                    fields[key] = value
            elif re.fullmatch(r"\s*[\w.*@+/-]+\.\w+\s*", line):
                fields["Files"].append(line.strip())
            elif key in ("Copyright", "Comment") and line.strip():
                fields[key] = f"{fields[key]} {line.strip()}".strip()
        if fields["Files"]:
            result.append(fields)
    return result


def readme_credit(stanza: dict[str, object]) -> tuple[str, str, str]:
    """(author, licence, url) from a GCompris README stanza.

    A 'details' picture is an adaptation: the photographer is named in its Comment.
    """
    author = str(stanza.get("Copyright", ""))
    licence = norm_licence(str(stanza.get("License", "")))
    url = str(stanza.get("Source", ""))
    comment = str(stanza.get("Comment", ""))
    pattern = r"based on (?:a photo|an original image) by (.+?), license (.+?), source at (\S+)"
    based = re.search(pattern, comment)
    if based:
        author = f"{based[1]} (photo, {based[2]}); adaptation © {author}"
        url = based[3]
    return author, licence, url


def gcompris_credits(files: dict[str, bytes]) -> dict[str, tuple[str, str, str]]:
    """Credits per bundle path, from the README files inside the bundles (nearest wins)."""
    credits = {}
    images = [p for p in files if p.lower().endswith(IMAGE_SUFFIXES)]
    readmes = sorted((p for p in files if p.endswith("/README")), key=len)
    for readme in readmes:  # shortest first, so that a deeper README overrides
        folder = readme.rsplit("/", 1)[0] + "/"
        inside = [p for p in images if p.startswith(folder)]
        for stanza in stanzas(files[readme].decode("utf-8", "replace")):
            for path in inside:
                if any(fnmatch.fnmatch(path[len(folder) :], f) for f in stanza["Files"]):
                    credits[path] = readme_credit(stanza)
    return credits


def dep5_credit(tree: Path, package: str, path: str) -> tuple[str, str, str] | None:
    """(author, licence, "") from /usr/share/doc/<pkg>/copyright, the last stanza matching.

    Its patterns name source-tree paths ("nature/Garden.jpg", "16.04/x.jpg") that are
    installed elsewhere, so a pattern matches by file name when that name is literal, and
    by file name plus the name of its folder when it has wildcards ("debian/*" then does
    not match every file, "*" does).
    """
    copyright_file = tree / "usr/share/doc" / package / "copyright"
    if not copyright_file.exists():
        return None
    found = None
    parts = Path(path).parts
    for stanza in stanzas(copyright_file.read_text(errors="replace")):
        for pattern in stanza["Files"]:
            folder, _, base = pattern.rpartition("/")
            if not fnmatch.fnmatch(parts[-1], base):
                continue
            literal = not any(c in base for c in "*?[")
            if literal or not folder or folder.rsplit("/", 1)[-1] in parts[:-1]:
                found = (
                    str(stanza.get("Copyright", "")),
                    norm_licence(str(stanza.get("License", ""))),
                    "",
                )
    return found


def kde_credit(tree: Path, path: str) -> tuple[str, str, str] | None:
    """(author, licence, url) from a KDE metadata.json (Plasma wallpaper) or a Palapeli
    .desktop file beside the image."""
    meta = tree / path.split("/contents/")[0] / "metadata.json"
    if "/contents/" in path and meta.exists():
        plugin = json.loads(meta.read_text())["KPlugin"]
        author = ", ".join(a["Name"] for a in plugin.get("Authors", []))
        return author, norm_licence(plugin.get("License", "")), plugin.get("Website", "")
    desktop = (tree / path).with_suffix(".desktop")
    if desktop.exists():
        info = dict(re.findall(r"^([\w-]+)=(.*)$", desktop.read_text(), re.M))
        return (
            info.get("X-KDE-PluginInfo-Author", ""),
            norm_licence(info.get("X-KDE-PluginInfo-License", "")),
            info.get("X-KDE-PluginInfo-Website", ""),
        )
    return None


def given_credit(path: str) -> tuple[str, str, str] | None:
    """The credit CREDITS gives for a file, if any."""
    return next((c for pattern, c in CREDITS.items() if fnmatch.fnmatch(path, pattern)), None)


def credit(tree: Path, package: str, path: str) -> tuple[str, str, str] | None:
    """The most specific credit known for a file outside GCompris: CREDITS, then the file's
    own metadata, then the package's Debian copyright file."""
    return given_credit(path) or kde_credit(tree, path) or dep5_credit(tree, package, path)


# --- choosing and converting ------------------------------------------------------------


def chosen(package: str, paths: list[str]) -> list[str]:
    """The package's files named by KEEP and not by EXCLUDE; a pattern matching nothing is
    an error (a renamed file must not silently shrink the set)."""
    keep = []
    for pattern in KEEP[package]:
        matches = [p for p in paths if fnmatch.fnmatch(p, pattern)]
        if not matches:
            raise SystemExit(f"{package}: nothing matches {pattern}")
        keep += [p for p in matches if p not in keep]
    return [p for p in keep if not any(fnmatch.fnmatch(p, x) for x in EXCLUDE)]


def stem(photo: Photo) -> str:
    """A readable, unique name: the activity for GCompris, the wallpaper's name for Plasma,
    the template's folder for Scribus (two of its photos are called moon.jpg)."""
    path = photo.path
    if photo.package == "gcompris-qt-data":
        inner = path.split(":", 1)[1]
        return f"{inner.split('/')[4]}_{Path(inner).stem}"
    if photo.package == "plasma-workspace-wallpapers":
        return path.split("/")[3]
    if photo.package == "scribus-template":
        return f"{Path(path).parent.name}_{Path(path).stem}"
    return Path(path).stem


def to_rgb(image: Image.Image) -> Image.Image:
    """Upright RGB: EXIF rotation applied, transparency flattened onto white, palette,
    grey and CMYK converted."""
    image = ImageOps.exif_transpose(image)
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA"):
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return image.convert("RGB")


def resized(image: Image.Image) -> Image.Image:
    """Short side down to SHORT_SIDE with Lanczos; smaller images are never upscaled."""
    width, height = image.size
    short = min(width, height)
    if short <= SHORT_SIDE:
        return image
    if width == short:
        size = (SHORT_SIDE, round(height * SHORT_SIDE / width))
    else:
        size = (round(width * SHORT_SIDE / height), SHORT_SIDE)
    return image.resize(size, Image.Resampling.LANCZOS)


def save(photo: Photo, folder: Path) -> str | None:
    """Write the photo as <package>__<stem>.jpg and return that name; None when too small.

    No EXIF, ICC or comment is passed to the encoder, so the bytes depend only on pixels.
    """
    with Image.open(io.BytesIO(photo.data)) as image:
        if min(image.size) < MIN_SHORT_SIDE:
            return None
        rgb = resized(to_rgb(image))
    name = f"{photo.package}__{stem(photo)}.jpg"
    rgb.save(folder / name, "JPEG", quality=90)
    return name


def package_photos(tree: Path, package: str) -> tuple[list[Photo], int]:
    """The chosen photos of one unpacked package, with credits, and how many images it has."""
    if package == "gcompris-qt-data":
        files = gcompris_files(tree)
        credits = gcompris_credits(files)
    else:
        files = {str(p.relative_to(tree)): p for p in tree.rglob("*") if p.is_file()}
        credits = {p: credit(tree, package, p) for p in chosen(package, sorted(files))}
    seen = sum(p.lower().endswith(IMAGE_SUFFIXES) for p in files)
    photos = []
    for path in chosen(package, sorted(files)):
        author, licence, url = given_credit(path) or credits.get(path) or ("", "", "")
        if not author.strip() or not licence.strip():
            print(f"  left out (no author or licence found): {package} {path}")
            continue
        data = files[path] if isinstance(files[path], bytes) else files[path].read_bytes()
        photos.append(Photo(package, path, data, " ".join(author.split()), licence, url))
    return photos, seen


# --- PHOTOS.md --------------------------------------------------------------------------


def cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return " ".join(text.split()).replace("|", "\\|")


def write_credits(rows: list[tuple[str, Photo]]) -> None:
    """training/PHOTOS.md: what the set is, how to rebuild it, one row per photo."""
    versions = ", ".join(f"{p} {v}" for p, v in PACKAGES.items())
    lines = [
        "# Training photographs",
        "",
        f"{len(rows)} freely licensed photographs for training the fast style-transfer "
        "networks (Johnson et al. 2016), taken from Debian bookworm packages and written to "
        "`build/photos/` as RGB JPEGs (short side 512 px, quality 90). "
        "Rebuild them with `make photos` (`training/make_photos.py`, which also chose them); "
        "`make photos PHOTO_DEBS=DIR` reuses .deb files already downloaded.",
        "",
        f"Packages: {versions}.",
        "",
        "| File | Author | Licence | Source |",
        "| --- | --- | --- | --- |",
    ]
    for name, photo in rows:
        source = f"{photo.package}: `{photo.path.replace(':', ' → ', 1)}`"
        if photo.url:
            source += f", {photo.url}"
        lines.append(
            f"| `{name}` | {cell(photo.author)} | {cell(photo.licence)} | {cell(source)} |"
        )
    CREDITS_MD.write_text("\n".join(lines) + "\n")


def check(out: Path) -> int:
    """0 when `out` holds exactly the files PHOTOS.md lists; else one line and 1."""
    listed = set(re.findall(r"^\| `([^`]+\.jpg)` \|", CREDITS_MD.read_text(), re.M))
    present = {p.name for p in out.glob("*")} if out.is_dir() else set()
    missing, extra = sorted(listed - present), sorted(present - listed)
    if missing or extra:
        first = (missing or extra)[0]
        print(
            f"{out} does not match {CREDITS_MD.name}: {len(missing)} missing, "
            f"{len(extra)} not listed (e.g. {first}); run make photos"
        )
        return 1
    print(f"{out}: {len(listed)} photos, as listed in {CREDITS_MD.name}")
    return 0


# --- main -------------------------------------------------------------------------------


def build(debs: Path, out: Path) -> None:
    """Fetch, unpack, choose, convert; build/photos is replaced only once all is written."""
    fetch(debs)
    out.parent.mkdir(parents=True, exist_ok=True)
    rows: list[tuple[str, Photo]] = []
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".photos-") as scratch:
        staging = Path(scratch) / "photos"
        staging.mkdir()
        for package, version in PACKAGES.items():
            tree = unpack(debs / deb_name(package, version), Path(scratch) / package)
            photos, seen = package_photos(tree, package)
            kept = [(save(p, staging), p) for p in photos]
            kept = [(name, p) for name, p in kept if name]
            if len({name for name, _ in kept}) != len(kept):
                raise SystemExit(f"{package}: two photos would get the same file name")
            rows += kept
            print(f"{package} {version}: kept {len(kept)} / seen {seen} images")
            shutil.rmtree(tree)
        if out.exists():
            shutil.rmtree(out)
        staging.rename(out)
    write_credits(rows)
    size = sum(p.stat().st_size for p in out.iterdir()) / 1e6
    print(
        f"total: {len(rows)} photos, {size:.1f} MB in {out}; credits in "
        f"{CREDITS_MD.relative_to(ROOT)}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--debs",
        type=Path,
        default=ROOT / "build" / "photo-debs",
        help="the .deb cache: missing packages are downloaded into it",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "photos")
    parser.add_argument(
        "--check", action="store_true", help="only verify that --out matches training/PHOTOS.md"
    )
    args = parser.parse_args()
    if args.check:
        return check(args.out)
    build(args.debs, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
