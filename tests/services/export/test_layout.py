"""Picking the layout: a steady face in a corner is a facecam (stack); a face elsewhere, a big
face, or a face that wanders is followed by a crop window instead."""

from __future__ import annotations

from services.export.crop import Box, FaceSample
from services.export.layout import TOP_SHARE, Rect, find_facecam, panel_rect, plan_layout

W, H, FPS = 1280, 720, 30.0


def faces(box: Box, count: int = 12, sway: float = 3.0) -> list[FaceSample]:
    return [FaceSample(n / 3, (Box(box.x + sway * (n % 3), box.y, box.w, box.h),))
            for n in range(count)]


def test_a_steady_corner_face_is_a_facecam_and_goes_on_top() -> None:
    cam = Box(1100, 560, 100, 100)
    assert find_facecam(faces(cam), W, H) is not None
    plan = plan_layout("auto", faces(cam), W, H, FPS, 4.0, 1080, 1920)
    assert plan.layout == "stack" and plan.facecam is not None and plan.game is not None
    top = plan.facecam
    assert top.x <= cam.x and cam.x + cam.w <= top.x + top.w  # the whole face is in it
    assert top.y <= cam.y and cam.y + cam.h <= top.y + top.h
    assert top.x + top.w <= W and top.y + top.h <= H  # and it is inside the frame
    assert abs(top.w / top.h - 1080 / (1920 * TOP_SHARE)) < 0.05  # shaped like its panel
    game = plan.game
    assert game.h == H and abs(game.w / game.h - 1080 / (1920 * (1 - TOP_SHARE))) < 0.02


def test_faces_that_are_not_a_facecam_get_the_crop() -> None:
    centred = faces(Box(580, 250, 120, 120))
    big_corner = faces(Box(900, 400, 380, 320))
    wandering = [FaceSample(n / 3, (Box(1100 - 40 * n, 560, 100, 100),)) for n in range(12)]
    for case in (centred, big_corner, wandering, []):
        assert find_facecam(case, W, H) is None
        assert plan_layout("auto", case, W, H, FPS, 2.0, 1080, 1920).layout == "crop"


def test_asked_for_stack_with_no_face_gives_a_centre_crop_and_says_so() -> None:
    plan = plan_layout("stack", [], W, H, FPS, 2.0, 1080, 1920)
    assert plan.layout == "crop" and "no face" in plan.note
    assert set(plan.lefts) == {438}


def test_asked_for_crop_follows_even_a_facecam() -> None:
    plan = plan_layout("crop", faces(Box(1100, 560, 100, 100)), W, H, FPS, 2.0, 1080, 1920)
    assert plan.layout == "crop" and plan.window is not None
    assert plan.window.x + plan.window.w == W  # as far right as it goes


def test_a_source_taller_than_9_by_16_is_cut_to_9_by_16() -> None:
    plan = plan_layout("crop", [], 720, 1600, FPS, 1.0, 1080, 1920)
    assert plan.window is not None
    assert (plan.window.w, plan.window.h, plan.window.y) == (720, 1280, 160)


def test_a_facecam_set_by_hand_is_used_and_shaped_like_the_panel() -> None:
    given = Rect(40, 60, 320, 180)
    for asked in ("auto", "stack"):
        plan = plan_layout(asked, [], W, H, FPS, 1.0, 1080, 1920, given)
        assert plan.layout == "stack" and plan.facecam is not None and "set" in plan.note
        cam = plan.facecam
        assert abs(cam.w / cam.h - 1080 / 768) < 0.03
        assert given.x <= cam.x and cam.x + cam.w <= given.x + given.w  # inside what was set
        assert given.y <= cam.y and cam.y + cam.h <= given.y + given.h
    assert plan_layout("crop", [], W, H, FPS, 1.0, 1080, 1920, given).layout == "crop"
    tall = panel_rect(Rect(1200, 0, 80, 720), W, H, 1080, 1920)
    assert tall.w <= 80 and tall.h < 80 and tall.x + tall.w <= W
