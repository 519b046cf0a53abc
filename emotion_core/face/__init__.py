"""Faces: detection (BlazeFace, MTCNN, Haar), the search for faces in a photo, alignment, the expression
predictors (our CNN, seed 002's hybrid), tracking across frames, the analysis of one photo, of video frames
(``stream``), of video files (``video``) and of a live camera (``live``), and drawing results on images
(``overlay``); FER+'s crowd votes for FER-2013 (``ferplus``)."""
