"""index.writer.title_sort_key: pypinyin imported without its dictionary copies, same keys."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TITLES = ["银行志", "重庆电厂", "长江航运史", "单县志", "行业调查 1958", "曾家岩", "乐山大佛",
          "Tesseract 手册", "都江堰水利", "朝阳区地名录"]

_PROBE = """
import json, os, sys
if sys.argv[1] == "plain":
    import pypinyin  # as any other module would: with pypinyin's dictionary copies
from index.writer import title_sort_key
keys = [title_sort_key(t).decode("utf-8") for t in sys.argv[2:]]
import pypinyin.constants, pypinyin.phrases_dict
json.dump({"keys": keys,
           "copied": pypinyin.constants.PHRASES_DICT is not pypinyin.phrases_dict.phrases_dict,
           "env": os.environ.get("PYPINYIN_NO_DICT_COPY")}, sys.stdout)
"""


def _keys(how: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "PYPINYIN_NO_DICT_COPY"}
    env["PYTHONPATH"] = str(ROOT)
    out = subprocess.run([sys.executable, "-c", _PROBE, how, *TITLES], env=env, check=True,
                         capture_output=True, text=True, cwd=ROOT).stdout
    return json.loads(out)


def test_title_sort_keys_are_pypinyins_without_its_dictionary_copies() -> None:
    plain, ours = _keys("plain"), _keys("ours")
    assert plain["copied"] and not ours["copied"]  # the variable took effect, and only here
    assert ours["env"] is None  # and is not left set for the rest of the process
    assert ours["keys"] == plain["keys"]
    assert ours["keys"][0].startswith("yin2 hang2 zhi4\x00")  # the phrase reading of 银行
