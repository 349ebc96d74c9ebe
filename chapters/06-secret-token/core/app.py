#!/usr/bin/env python3
# -*- coding: UTF-8 -*-
from sanic import Sanic

# 现在的 Sanic 要求应用有一个名字，不带名字的 Sanic() 会报错。
# Today's Sanic requires an app name; a bare Sanic() raises an error.
app = Sanic('webapp')
