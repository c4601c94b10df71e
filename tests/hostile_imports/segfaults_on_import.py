"""Kills the interpreter while being imported: reads address 0 through ctypes (SIGSEGV)."""
import ctypes

ctypes.string_at(0)
