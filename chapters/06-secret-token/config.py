#!/usr/bin/env python3
# -*- coding: UTF-8 -*-
import os

# 接口前缀：后台接口都以 PREFIX['be'] 开头，前台接口以 PREFIX['fe'] 开头。
# URL prefixes: back-office endpoints start with PREFIX['be'], front-end ones with PREFIX['fe'].
PREFIX = {
    'be': '/api/v1/be/',
    'fe': '/api/v1/fe/',
}

# 会话文件放在本章自己的 temp/ 文件夹。路径由本文件的位置算出，而不是当前目录，
# 所以无论从哪个目录启动，会话文件都在同一个地方。
# 设置环境变量 SESSION_DIR 可以换一个文件夹（测试和笔记本用它，免得往仓库里写文件）。
# Session files live in this chapter's own temp/ folder. The path comes from this
# file's location, not from the current directory, so it is the same wherever you
# start the app. The SESSION_DIR environment variable moves them elsewhere (the
# tests and notebooks use it so they never write into the repository).
SESSION_DIR = os.environ.get('SESSION_DIR') or os.path.join(os.path.dirname(os.path.abspath(__file__)), 'temp')
