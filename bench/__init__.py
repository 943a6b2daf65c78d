"""Speed and memory numbers for Clip Live (`make bench`). Never part of the tests."""
